// Shared by the map-in-map types (array_of_maps in id_array.cpp, hash_of_maps):
// the inner map template rules of the kernel's bpf_map_meta_alloc() and
// bpf_map_meta_equal().  Internal to src/maps.
#pragma once

#include "maps/map_types.h"

namespace userbpf::maps {

// At creation: a template may not itself be map-in-map (EINVAL) nor a
// prog_array (ENOTSUPP).
Status check_inner_template(const MapSpec& spec);

// At update: the map with this id, if it is live and may be stored given the
// template (nullptr template: any map that is not map-in-map or prog_array);
// nullptr otherwise.
Map* inner_map_for_update(const MapSpec* inner_template, uint32_t id);

}  // namespace userbpf::maps
