# prog_type: xdp
# expect: accept
# A sign-extending move of a pointer: a privileged loader may do it (the result
# is an unknown scalar, as for any pointer the program turns into a number).
    r2 = (s32)r1
    r0 = 0
    exit
