//! Raw FFI declarations of the NAT trainer adapter plugin C ABI
//! (`include/nat/trainer_adapter.h`, ABI 1.1), hand-written to match the
//! header. `bindings/check_declarations.py` compares the `extern "C"` block
//! below with the header, function by function and argument by argument.
//!
//! Two ways to reach the functions:
//!
//! - at run time: [`Api::load`] resolves every function of a plugin opened
//!   with `libloading` (any plugin, chosen by path; functions added after
//!   ABI 1.0, `nat_trainer_adapter_resubmit` and `_spooled` of 1.1, are `Option`s);
//! - at link time (feature `link`): the `extern "C"` block is linked against
//!   `libnat_trainer_adapter_openpipe_art`, and [`Api::linked`] gives the same
//!   table of function pointers.
//!
//! Everything here is `unsafe` to call; the `nat-trainer-adapter` crate is the
//! safe layer.

#![allow(non_camel_case_types)]

use core::ffi::c_char;
use core::marker::{PhantomData, PhantomPinned};

/// `(major << 16) | minor` of the ABI these declarations implement.
pub const NAT_TRAINER_ADAPTER_ABI_MAJOR: u32 = 1;
pub const NAT_TRAINER_ADAPTER_ABI_MINOR: u32 = 1;
pub const NAT_TRAINER_ADAPTER_ABI_VERSION: u32 = (NAT_TRAINER_ADAPTER_ABI_MAJOR << 16) | NAT_TRAINER_ADAPTER_ABI_MINOR;

// nat_trainer_adapter_code (returned as int32_t).
pub const NAT_TRAINER_ADAPTER_OK: i32 = 0;
pub const NAT_TRAINER_ADAPTER_INVALID_ARGUMENT: i32 = 1;
pub const NAT_TRAINER_ADAPTER_NOT_FOUND: i32 = 2;
pub const NAT_TRAINER_ADAPTER_ALREADY_EXISTS: i32 = 3;
pub const NAT_TRAINER_ADAPTER_FAILED_PRECONDITION: i32 = 4;
pub const NAT_TRAINER_ADAPTER_UNAVAILABLE: i32 = 5;
pub const NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED: i32 = 6;
pub const NAT_TRAINER_ADAPTER_CANCELLED: i32 = 7;
pub const NAT_TRAINER_ADAPTER_INTERNAL: i32 = 8;

/// An adapter instance (opaque).
#[repr(C)]
pub struct nat_trainer_adapter {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// An error: a code and a message (opaque).
#[repr(C)]
pub struct nat_trainer_adapter_error {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Bytes returned by the library (opaque).
#[repr(C)]
pub struct nat_trainer_adapter_buffer {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

macro_rules! c_abi {
    (
        $( pub fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)? ; )*
        optional {
            $( pub fn $oname:ident ( $($oarg:ident : $oty:ty),* $(,)? ) $(-> $oret:ty)? ; )*
        }
    ) => {
        #[cfg_attr(feature = "link", link(name = "nat_trainer_adapter_openpipe_art", kind = "dylib"))]
        extern "C" {
            $( pub fn $name($($arg: $ty),*) $(-> $ret)?; )*
            $( pub fn $oname($($oarg: $oty),*) $(-> $oret)?; )*
        }

        /// Function pointer types, one per function, named like the function.
        pub mod pfn {
            use super::*;
            $( pub type $name = unsafe extern "C" fn($($ty),*) $(-> $ret)?; )*
            $( pub type $oname = unsafe extern "C" fn($($oty),*) $(-> $oret)?; )*
        }

        /// Every function of the ABI as a function pointer, resolved from one
        /// plugin. Fields are named like the C functions. The functions of
        /// ABI 1.1 are `Option`s: `None` for a plugin reporting ABI 1.0.
        #[derive(Clone, Copy, Debug)]
        pub struct Api {
            $( pub $name: pfn::$name, )*
            $( pub $oname: Option<pfn::$oname>, )*
        }

        impl Api {
            /// Resolves the functions the plugin's `abi_version` promises in
            /// `lib`: those of ABI 1.0 always, those of 1.1 when its minor is
            /// 1 or more (`None` otherwise); an error if one of them is
            /// missing. Nothing is probed.
            ///
            /// # Safety
            /// `lib` must be a trainer adapter plugin of ABI major 1 (check
            /// [`nat_trainer_adapter_abi_version`] first), and the returned
            /// pointers must not be called after `lib` is unloaded.
            pub unsafe fn load(lib: &libloading::Library, abi_version: u32) -> Result<Api, libloading::Error> {
                let has_1_1 = (abi_version & 0xffff) >= 1;
                Ok(Api {
                    $( $name: *lib.get::<pfn::$name>(concat!(stringify!($name), "\0").as_bytes())?, )*
                    $( $oname: if has_1_1 {
                        Some(*lib.get::<pfn::$oname>(concat!(stringify!($oname), "\0").as_bytes())?)
                    } else {
                        None
                    }, )*
                })
            }

            /// The functions of the plugin linked at build time.
            #[cfg(feature = "link")]
            pub fn linked() -> Api {
                Api {
                    $( $name: $name as pfn::$name, )*
                    $( $oname: Some($oname as pfn::$oname), )*
                }
            }
        }
    };
}

c_abi! {
    pub fn nat_trainer_adapter_abi_version() -> u32;
    pub fn nat_trainer_adapter_plugin_info() -> *const c_char;

    pub fn nat_trainer_adapter_error_code(error: *const nat_trainer_adapter_error) -> i32;
    pub fn nat_trainer_adapter_error_message(error: *const nat_trainer_adapter_error) -> *const c_char;
    pub fn nat_trainer_adapter_error_free(error: *mut nat_trainer_adapter_error);

    pub fn nat_trainer_adapter_buffer_data(buffer: *const nat_trainer_adapter_buffer) -> *const c_char;
    pub fn nat_trainer_adapter_buffer_size(buffer: *const nat_trainer_adapter_buffer) -> usize;
    pub fn nat_trainer_adapter_buffer_free(buffer: *mut nat_trainer_adapter_buffer);

    pub fn nat_trainer_adapter_create(
        config_json: *const c_char,
        config_len: usize,
        out_adapter: *mut *mut nat_trainer_adapter,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_destroy(adapter: *mut nat_trainer_adapter);
    pub fn nat_trainer_adapter_initialize(
        adapter: *mut nat_trainer_adapter,
        run_config_json: *const c_char,
        run_config_len: usize,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_is_healthy(
        adapter: *mut nat_trainer_adapter,
        out_healthy: *mut i32,
    ) -> *mut nat_trainer_adapter_error;

    pub fn nat_trainer_adapter_submit(
        adapter: *mut nat_trainer_adapter,
        collection_json: *const c_char,
        collection_len: usize,
        out_job_ref: *mut *mut nat_trainer_adapter_buffer,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_status(
        adapter: *mut nat_trainer_adapter,
        job_ref_json: *const c_char,
        job_ref_len: usize,
        out_status: *mut *mut nat_trainer_adapter_buffer,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_wait_until_complete(
        adapter: *mut nat_trainer_adapter,
        job_ref_json: *const c_char,
        job_ref_len: usize,
        poll_interval_s: f64,
        timeout_s: f64,
        out_status: *mut *mut nat_trainer_adapter_buffer,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_cancel(
        adapter: *mut nat_trainer_adapter,
        job_ref_json: *const c_char,
        job_ref_len: usize,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_jobs(
        adapter: *mut nat_trainer_adapter,
        out_jobs: *mut *mut nat_trainer_adapter_buffer,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_next_event(
        adapter: *mut nat_trainer_adapter,
        job_ref_json: *const c_char,
        job_ref_len: usize,
        timeout_s: f64,
        out_event_or_null: *mut *mut nat_trainer_adapter_buffer,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_log_progress(
        adapter: *mut nat_trainer_adapter,
        job_ref_json: *const c_char,
        job_ref_len: usize,
        metrics_json: *const c_char,
        metrics_len: usize,
        output_dir_or_null: *const c_char,
    ) -> *mut nat_trainer_adapter_error;
    pub fn nat_trainer_adapter_convert(
        adapter: *mut nat_trainer_adapter,
        collection_json: *const c_char,
        collection_len: usize,
        out_body: *mut *mut nat_trainer_adapter_buffer,
    ) -> *mut nat_trainer_adapter_error;

    // ABI 1.1: `Option`s in `Api`, `None` for a 1.0 plugin.
    optional {
        pub fn nat_trainer_adapter_resubmit(
            adapter: *mut nat_trainer_adapter,
            spool_path: *const c_char,
            spool_path_len: usize,
            out_job_ref: *mut *mut nat_trainer_adapter_buffer,
        ) -> *mut nat_trainer_adapter_error;
        pub fn nat_trainer_adapter_spooled(
            adapter: *mut nat_trainer_adapter,
            spool_dir: *const c_char,
            spool_dir_len: usize,
            out_json: *mut *mut nat_trainer_adapter_buffer,
        ) -> *mut nat_trainer_adapter_error;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn abi_version_layout() {
        assert_eq!(super::NAT_TRAINER_ADAPTER_ABI_VERSION, 0x0001_0001);
    }
}
