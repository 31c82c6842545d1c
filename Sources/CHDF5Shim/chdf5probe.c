// The HDF5 metadata probe: run in a separate process before FlowMRD opens an HDF5 file, so that
// a crash inside libhdf5 on a malformed file (fuzzing found a segfault in libhdf5 1.10.8's
// metadata accumulator) ends that process, not FlowMRD. See HDF5Probe.swift.
#include "chdf5shim.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

enum { probe_ok = 0, probe_hdf5_error = 3, probe_out_of_memory = 4 };
enum { max_string_elements = 100000, max_rank = 32, max_chunks = 1 << 20 };

typedef struct { int failed; } probe_state;

static void read_strings(hid_t object, hid_t type, hid_t space, int is_attribute, probe_state *state) {
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0) { state->failed = 1; return; }
    if (n == 0 || n > max_string_elements) return;
    if (H5Tis_variable_str(type) > 0) {
        hid_t memory = H5Tcopy(H5T_C_S1);
        H5Tset_size(memory, H5T_VARIABLE);
        H5Tset_cset(memory, H5Tget_cset(type));
        char **values = calloc((size_t)n, sizeof(char *));
        if (values) {
            herr_t status = is_attribute ? H5Aread(object, memory, values) : H5Dread(object, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
            if (status < 0) state->failed = 1; else H5Dvlen_reclaim(memory, space, H5P_DEFAULT, values);
            free(values);
        }
        H5Tclose(memory);
    } else {
        size_t size = H5Tget_size(type);
        if (size == 0 || size > (64u << 20) / (size_t)n) return;
        char *buffer = malloc(size * (size_t)n);
        if (buffer) {
            herr_t status = is_attribute ? H5Aread(object, type, buffer) : H5Dread(object, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
            if (status < 0) state->failed = 1;
            free(buffer);
        }
    }
}

static herr_t visit_attribute(hid_t location, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    probe_state *state = data;
    hid_t attribute = H5Aopen(location, name, H5P_DEFAULT);
    if (attribute < 0) { state->failed = 1; return 0; }
    hid_t type = H5Aget_type(attribute), space = H5Aget_space(attribute);
    if (type < 0 || space < 0) state->failed = 1;
    else if (H5Tget_class(type) == H5T_STRING) read_strings(attribute, type, space, 1, state);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Aclose(attribute);
    return 0;
}

static void probe_dataset(hid_t dataset, probe_state *state) {
    hid_t space = H5Dget_space(dataset), type = H5Dget_type(dataset), creation = H5Dget_create_plist(dataset);
    if (space < 0 || type < 0 || creation < 0) { state->failed = 1; goto done; }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > max_rank) { state->failed = 1; goto done; }
    hsize_t dims[max_rank];
    if (H5Sget_simple_extent_dims(space, dims, NULL) < 0) { state->failed = 1; goto done; }
    if (H5Pget_layout(creation) == H5D_CHUNKED) {
        // Walks the chunk index (B-tree) without reading the data.
        hsize_t chunks = 0;
        if (H5Dget_num_chunks(dataset, space, &chunks) < 0) { state->failed = 1; goto done; }
        for (hsize_t i = 0; i < chunks && i < max_chunks; i++) {
            hsize_t offset[max_rank]; unsigned mask; haddr_t address; hsize_t size;
            if (H5Dget_chunk_info(dataset, space, i, offset, &mask, &address, &size) < 0) { state->failed = 1; break; }
        }
    }
    if (H5Tget_class(type) == H5T_STRING) read_strings(dataset, type, space, 0, state);
done:
    if (creation >= 0) H5Pclose(creation);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
}

static herr_t visit_object(hid_t root, const char *name, const H5O_info_t *info, void *data) {
    probe_state *state = data;
    hid_t object = H5Oopen(root, name, H5P_DEFAULT);
    if (object < 0) { state->failed = 1; return 0; }
    if (info->type == H5O_TYPE_DATASET) probe_dataset(object, state);
    if (H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, visit_attribute, state) < 0) state->failed = 1;
    H5Oclose(object);
    return 0;
}

static int chdf5_probe_metadata(const char *path);

// Set when a failing libhdf5 call's error stack holds an allocation failure: under the probe's
// address-space cap that means the file's sizes asked for gigabytes, which FlowMRD's own open
// (without the cap) would then allocate and touch. Such a file is refused, not left to the caller.
static int allocation_failed = 0;

static herr_t find_allocation_failure(unsigned n, const H5E_error2_t *error, void *data) {
    (void)n; (void)data;
    if (error->maj_num == H5E_RESOURCE || error->min_num == H5E_NOSPACE || error->min_num == H5E_CANTALLOC) allocation_failed = 1;
    return 0;
}

// libhdf5 calls this (its "automatic error reporting") whenever an API call fails.
static herr_t on_error(hid_t stack, void *data) {
    (void)data;
    H5Ewalk2(stack, H5E_WALK_DOWNWARD, find_allocation_failure, NULL);
    return 0;
}

int chdf5_probe_file(const char *path) {
    allocation_failed = 0;
    int status = chdf5_probe_metadata(path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return allocation_failed ? probe_out_of_memory : status;
}

static int chdf5_probe_metadata(const char *path) {
    H5Eset_auto2(H5E_DEFAULT, on_error, NULL);
    hid_t access = H5Pcreate(H5P_FILE_ACCESS);
    if (access < 0) return probe_hdf5_error;
    H5Pset_file_locking(access, 0, 1);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, access);
    H5Pclose(access);
    if (file < 0) return probe_hdf5_error;
    probe_state state = { 0 };
    if (H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, visit_object, &state, H5O_INFO_BASIC) < 0) state.failed = 1;
    H5Fclose(file);
    return state.failed ? probe_hdf5_error : probe_ok;
}

// A process started with FLOWMRD_HDF5_PROBE=PATH in its environment probes PATH and exits
// before main runs, whichever program links this library (flowmrd, the tests, the fuzzer).
// Its address space is capped at 2 GiB, so a file whose sizes make libhdf5 allocate and touch
// gigabytes fails there with status 4 (AddressSanitizer's shadow memory needs far more address
// space, so sanitizer builds go without the cap; the parent watches the child's memory instead).
__attribute__((constructor)) static void chdf5_probe_entry(void) {
    const char *path = getenv("FLOWMRD_HDF5_PROBE");
    if (path == NULL) return;
#if defined(__has_feature)
#if !__has_feature(address_sanitizer)
    struct rlimit limit = { 2ul << 30, 2ul << 30 };
    setrlimit(RLIMIT_AS, &limit);
#endif
#endif
    _exit(chdf5_probe_file(path));
}
