#include <stdio.h>
#include "chdf5shim.h"
#include <string.h>

hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
hid_t chdf5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
hid_t chdf5_std_i64le(void) { return H5T_STD_I64LE; }
hid_t chdf5_native_int64(void) { return H5T_NATIVE_INT64; }
hid_t chdf5_std_u8le(void) { return H5T_STD_U8LE; }
hid_t chdf5_native_uchar(void) { return H5T_NATIVE_UCHAR; }
hid_t chdf5_c_s1(void) { return H5T_C_S1; }
hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
hid_t chdf5_p_dataset_access(void) { return H5P_DATASET_ACCESS; }
hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
hid_t chdf5_p_file_create(void) { return H5P_FILE_CREATE; }
hid_t chdf5_p_group_create(void) { return H5P_GROUP_CREATE; }
unsigned chdf5_f_acc_trunc(void) { return H5F_ACC_TRUNC; }
unsigned chdf5_f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
unsigned chdf5_f_acc_excl(void) { return H5F_ACC_EXCL; }
hsize_t chdf5_s_unlimited(void) { return H5S_UNLIMITED; }
size_t chdf5_t_variable(void) { return H5T_VARIABLE; }
hid_t chdf5_e_default(void) { return H5E_DEFAULT; }

// HDF5's thread-safe build keeps the automatic error printer per thread: silence each thread once.
static _Thread_local int silenced = 0;
void chdf5_silence_errors(void) {
    if (!silenced) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        silenced = 1;
    }
}

// Keeps the outermost message (what the API call failed to do) and the innermost one (why).
struct walk_state { char outer[256]; char inner[256]; };

static herr_t walk(unsigned n, const H5E_error2_t *error, void *data) {
    struct walk_state *state = (struct walk_state *)data;
    if (!error->desc) return 0;
    if (n == 0) snprintf(state->outer, sizeof state->outer, "%s", error->desc);
    else snprintf(state->inner, sizeof state->inner, "%s", error->desc);
    return 0;
}

void chdf5_last_error(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = 0;
    struct walk_state state;
    state.outer[0] = 0;
    state.inner[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk, &state);
    if (state.inner[0] && strcmp(state.inner, state.outer) != 0)
        snprintf(buffer, size, "%s (%s)", state.outer, state.inner);
    else
        snprintf(buffer, size, "%s", state.outer);
}
