import CHDF5
import CHDF5Shim
import Glibc

/// Variable-length UTF-8 strings in HDF5: 1-D string datasets (channel names, markers) and
/// scalar string attributes (FCS keywords), in the form h5py reads as `str`.
enum HDF5Strings {
    static func type(file: String) throws(HDF5Error) -> hid_t {
        let type = try HDF5Library.check(H5Tcopy(chdf5_c_s1()), file: file, "copy string type")
        try HDF5Library.check(H5Tset_size(type, chdf5_t_variable()), file: file, "set string size")
        try HDF5Library.check(H5Tset_cset(type, H5T_CSET_UTF8), file: file, "set UTF-8")
        return type
    }

    /// Writes `values` as dataset `name` under `location`.
    static func writeDataset(_ values: [String], name: String, at location: hid_t, file: String) throws(HDF5Error) {
        H5Dclose(try createDataset(values, name: name, at: location, file: file))
    }

    /// Writes `values` as dataset `name` under `location` and returns it open (the caller closes it).
    static func createDataset(_ values: [String], name: String, at location: hid_t, file: String) throws(HDF5Error) -> hid_t {
        let type = try type(file: file)
        defer { H5Tclose(type) }
        var dims: [hsize_t] = [hsize_t(values.count)]
        let space = try HDF5Library.check(H5Screate_simple(1, &dims, nil), file: file, "create string space")
        defer { H5Sclose(space) }
        let properties = try HDF5Library.untimed(chdf5_p_dataset_create(), file: file)
        defer { H5Pclose(properties) }
        let dataset = try HDF5Library.check(H5Dcreate2(location, name, type, space, chdf5_p_default(), properties, chdf5_p_default()),
                                            file: file, "create /\(name)")
        var pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        if !values.isEmpty {
            guard H5Dwrite(dataset, type, chdf5_p_default(), chdf5_p_default(), chdf5_p_default(), &pointers) >= 0 else {
                let error = HDF5Error.current(file: file, "write /\(name)")
                H5Dclose(dataset)
                throw error
            }
        }
        return dataset
    }

    /// Reads a 1-D string dataset (variable or fixed length).
    static func readDataset(name: String, at location: hid_t, file: String) throws(HDF5Error) -> [String] {
        let dataset = try HDF5Library.check(H5Dopen2(location, name, chdf5_p_default()), file: file, "open /\(name)")
        defer { H5Dclose(dataset) }
        let space = try HDF5Library.check(H5Dget_space(dataset), file: file, "get /\(name) space")
        defer { H5Sclose(space) }
        guard H5Sget_simple_extent_ndims(space) == 1 else { throw HDF5Error(file: file, operation: "read /\(name)", message: "expected a 1-D string dataset") }
        var count: hsize_t = 0
        H5Sget_simple_extent_dims(space, &count, nil)
        guard count <= 100_000 else { throw HDF5Error(file: file, operation: "read /\(name)", message: "\(count) strings is more than the limit of 100000") }
        let type = try type(file: file)
        defer { H5Tclose(type) }
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: Int(count))
        if count > 0 {
            try HDF5Library.check(H5Dread(dataset, type, chdf5_p_default(), chdf5_p_default(), chdf5_p_default(), &pointers), file: file, "read /\(name)")
        }
        defer { if count > 0 { H5Dvlen_reclaim(type, space, chdf5_p_default(), &pointers) } }
        return pointers.map { $0.map { String(cString: $0) } ?? "" }
    }

    /// Writes a scalar string attribute `name` = `value` on `location`.
    static func writeAttribute(_ value: String, name: String, on location: hid_t, file: String) throws(HDF5Error) {
        let type = try type(file: file)
        defer { H5Tclose(type) }
        let space = try HDF5Library.check(H5Screate(H5S_SCALAR), file: file, "create attribute space")
        defer { H5Sclose(space) }
        let attribute = try HDF5Library.check(H5Acreate2(location, name, type, space, chdf5_p_default(), chdf5_p_default()), file: file, "create attribute \(name)")
        defer { H5Aclose(attribute) }
        var pointer: UnsafeMutablePointer<CChar>? = strdup(value)
        defer { free(pointer) }
        try HDF5Library.check(H5Awrite(attribute, type, &pointer), file: file, "write attribute \(name)")
    }

    /// Every string attribute of `location`, in creation order.
    static func readAttributes(on location: hid_t, file: String) throws(HDF5Error) -> [(String, String)] {
        var info = H5O_info_t()
        try HDF5Library.check(H5Oget_info2(location, &info, UInt32(H5O_INFO_NUM_ATTRS)), file: file, "count attributes")
        guard info.num_attrs <= 1_000_000 else { throw HDF5Error(file: file, operation: "read attributes", message: "too many attributes") }
        var result: [(String, String)] = []
        let type = try type(file: file)
        defer { H5Tclose(type) }
        for i in 0..<info.num_attrs {
            let attribute = try HDF5Library.check(H5Aopen_by_idx(location, ".", H5_INDEX_NAME, H5_ITER_INC, i, chdf5_p_default(), chdf5_p_default()),
                                                  file: file, "open attribute \(i)")
            defer { H5Aclose(attribute) }
            let length = H5Aget_name(attribute, 0, nil)
            var nameBuffer = [CChar](repeating: 0, count: max(1, length + 1))
            H5Aget_name(attribute, nameBuffer.count, &nameBuffer)
            let stored = H5Aget_type(attribute)
            defer { H5Tclose(stored) }
            guard H5Tget_class(stored) == H5T_STRING, H5Tis_variable_str(stored) > 0 else { continue }
            var pointer: UnsafeMutablePointer<CChar>?
            try HDF5Library.check(H5Aread(attribute, type, &pointer), file: file, "read attribute")
            // The name up to its terminating NUL (the buffer is one longer than the name).
            let name = String(decoding: nameBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            result.append((name, pointer.map { String(cString: $0) } ?? ""))
            free(pointer)
        }
        return result
    }

    /// The string attribute `name` of `location`, nil when there is none.
    static func readAttribute(_ name: String, on location: hid_t, file: String) throws(HDF5Error) -> String? {
        guard try HDF5Library.check(H5Aexists(location, name), file: file, "look up attribute \(name)") > 0 else { return nil }
        let attribute = try HDF5Library.check(H5Aopen(location, name, chdf5_p_default()), file: file, "open attribute \(name)")
        defer { H5Aclose(attribute) }
        let stored = H5Aget_type(attribute)
        defer { H5Tclose(stored) }
        guard H5Tget_class(stored) == H5T_STRING, H5Tis_variable_str(stored) > 0 else {
            throw HDF5Error(file: file, operation: "read attribute \(name)", message: "expected a variable-length string")
        }
        let type = try type(file: file)
        defer { H5Tclose(type) }
        var pointer: UnsafeMutablePointer<CChar>?
        try HDF5Library.check(H5Aread(attribute, type, &pointer), file: file, "read attribute \(name)")
        defer { free(pointer) }
        return pointer.map { String(cString: $0) } ?? ""
    }

    /// The string attribute `name` of the file's root group.
    static func readRootAttribute(_ name: String, file: hid_t, path: String) throws(HDF5Error) -> String? {
        let root = try HDF5Library.check(H5Gopen2(file, "/", chdf5_p_default()), file: path, "open /")
        defer { H5Gclose(root) }
        return try readAttribute(name, on: root, file: path)
    }

    /// Writes the string attribute `name` on the file's root group.
    static func writeRootAttribute(_ value: String, name: String, file: hid_t, path: String) throws(HDF5Error) {
        let root = try HDF5Library.check(H5Gopen2(file, "/", chdf5_p_default()), file: path, "open /")
        defer { H5Gclose(root) }
        try writeAttribute(value, name: name, on: root, file: path)
    }

    /// Writes a 1-D string-array attribute (possibly empty), as anndata's `column-order`.
    static func writeAttribute(strings values: [String], name: String, on location: hid_t, file: String) throws(HDF5Error) {
        let type = try type(file: file)
        defer { H5Tclose(type) }
        var dims: [hsize_t] = [hsize_t(values.count)]
        let space = try HDF5Library.check(H5Screate_simple(1, &dims, nil), file: file, "create attribute space")
        defer { H5Sclose(space) }
        let attribute = try HDF5Library.check(H5Acreate2(location, name, type, space, chdf5_p_default(), chdf5_p_default()), file: file, "create attribute \(name)")
        defer { H5Aclose(attribute) }
        var pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        if !values.isEmpty {
            try HDF5Library.check(H5Awrite(attribute, type, &pointers), file: file, "write attribute \(name)")
        }
    }

    /// Writes a scalar string dataset `name` under `location`.
    static func writeScalar(_ value: String, name: String, at location: hid_t, file: String) throws(HDF5Error) -> hid_t {
        let type = try type(file: file)
        defer { H5Tclose(type) }
        let space = try HDF5Library.check(H5Screate(H5S_SCALAR), file: file, "create scalar space")
        defer { H5Sclose(space) }
        let properties = try HDF5Library.untimed(chdf5_p_dataset_create(), file: file)
        defer { H5Pclose(properties) }
        let dataset = try HDF5Library.check(H5Dcreate2(location, name, type, space, chdf5_p_default(), properties, chdf5_p_default()),
                                            file: file, "create \(name)")
        var pointer: UnsafeMutablePointer<CChar>? = strdup(value)
        defer { free(pointer) }
        do throws(HDF5Error) {
            try HDF5Library.check(H5Dwrite(dataset, type, chdf5_p_default(), chdf5_p_default(), chdf5_p_default(), &pointer), file: file, "write \(name)")
        } catch {
            H5Dclose(dataset)
            throw error
        }
        return dataset
    }
}
