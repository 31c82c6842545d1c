#ifndef CHDF5SHIM_H
#define CHDF5SHIM_H
#include <hdf5.h>

// HDF5's type, property-list and flag constants are macros (often calling H5open) that Swift
// cannot import; each function returns one of them.
hid_t chdf5_native_float(void);
hid_t chdf5_native_double(void);
hid_t chdf5_ieee_f32le(void);
hid_t chdf5_std_i64le(void);
hid_t chdf5_native_int64(void);
hid_t chdf5_std_u8le(void);
hid_t chdf5_native_uchar(void);
hid_t chdf5_c_s1(void);
hid_t chdf5_p_dataset_create(void);
hid_t chdf5_p_dataset_access(void);
hid_t chdf5_p_file_access(void);
hid_t chdf5_p_default(void);
hid_t chdf5_p_file_create(void);
hid_t chdf5_p_group_create(void);
unsigned chdf5_f_acc_trunc(void);
unsigned chdf5_f_acc_rdonly(void);
unsigned chdf5_f_acc_excl(void);
hsize_t chdf5_s_unlimited(void);
size_t chdf5_t_variable(void);
hid_t chdf5_e_default(void);

/// Silences the library's own error printing on the calling thread (cheap after the first call per thread).
void chdf5_silence_errors(void);
/// The innermost message of the current error stack into buffer (empty when none).
void chdf5_last_error(char *buffer, size_t size);
/// Opens `path` read-only and reads every object header, attribute, chunk index and string the
/// file holds (no event data): 0 when all could be read, 3 on an HDF5 error, 4 when libhdf5
/// could not allocate what the file asked for (under the probe's address-space cap). Meant to run in a
/// separate process (a process started with FLOWMRD_HDF5_PROBE=PATH runs it and exits).
int chdf5_probe_file(const char *path);
#endif
