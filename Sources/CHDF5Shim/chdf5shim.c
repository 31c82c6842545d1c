#include "chdf5shim.h"
#include <string.h>

hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
hid_t chdf5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
hid_t chdf5_c_s1(void) { return H5T_C_S1; }
hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
unsigned chdf5_f_acc_trunc(void) { return H5F_ACC_TRUNC; }
unsigned chdf5_f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
unsigned chdf5_f_acc_excl(void) { return H5F_ACC_EXCL; }
hsize_t chdf5_s_unlimited(void) { return H5S_UNLIMITED; }
size_t chdf5_t_variable(void) { return H5T_VARIABLE; }
hid_t chdf5_e_default(void) { return H5E_DEFAULT; }

void chdf5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static herr_t walk(unsigned n, const H5E_error2_t *error, void *data) {
    char *buffer = ((char **)data)[0];
    size_t size = (size_t)((char **)data)[1];
    if (n == 0 && error->desc && size > 0) {
        strncpy(buffer, error->desc, size - 1);
        buffer[size - 1] = 0;
    }
    return 0;
}

void chdf5_last_error(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = 0;
    void *data[2] = { buffer, (void *)size };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk, data);
}
