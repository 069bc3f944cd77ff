//! The table-driven C ABI (`photon_family_*`) as a careless or hostile C
//! caller uses it: unknown names and indexes, NULL and oversized label
//! arrays, lengths gone wrong, values no label has, the wrong kind; each is
//! a code with a message (checked before anything is recorded), and a good
//! call still succeeds after them.

use photon_metrics_ffi::error::*;
use photon_metrics_ffi::families::*;
use photon_metrics_ffi::labels::*;
use std::ffi::CStr;
use std::ptr;

fn last() -> String {
    // SAFETY: `photon_last_error_message` returns this thread's last message
    // (alive until the next failing call on this thread, and none runs before
    // it is copied here) or a static text, both NUL-terminated.
    unsafe { CStr::from_ptr(photon_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

fn lookup(name: &str) -> Result<PhotonFamily, (PhotonCode, String)> {
    let mut out = PhotonFamily { index: u32::MAX };
    // SAFETY: `name.len()` readable bytes at `name.as_ptr()` and a writable
    // `out`, as `photon_family_lookup` asks.
    match unsafe { photon_family_lookup(name.as_ptr().cast(), name.len(), &mut out) } {
        PHOTON_OK => Ok(out),
        code => Err((code, last())),
    }
}

#[test]
fn every_catalog_family_is_listed_with_its_shape() {
    let families = photon_metrics::catalog::families();
    assert!(photon_family_count() as usize >= families.len());
    for (i, spec) in families.iter().enumerate() {
        let mut f = PhotonFamily { index: u32::MAX };
        // SAFETY: `f` is a writable local.
        assert_eq!(unsafe { photon_family_at(i as u32, &mut f) }, PHOTON_OK);
        assert_eq!(lookup(spec.name).unwrap(), f);
        let (mut name, mut len) = (ptr::null(), 0usize);
        assert_eq!(
            // SAFETY: `name` and `len` are writable locals.
            unsafe { photon_family_name(f, &mut name, &mut len) },
            PHOTON_OK
        );
        // SAFETY: `photon_family_name` returned OK, so `name` points to `len`
        // bytes of a `'static` family name.
        let name = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), len) };
        assert_eq!(name, spec.name.as_bytes());
        let (mut kind, mut labels) = (u32::MAX, usize::MAX);
        assert_eq!(
            // SAFETY: `kind` and `labels` are writable locals.
            unsafe { photon_family_shape(f, &mut kind, &mut labels) },
            PHOTON_OK
        );
        assert_eq!(labels, spec.labels.len());
        assert_eq!(kind as usize, spec.kind as usize);
        for (j, label) in spec.labels.iter().enumerate() {
            let (mut name, mut len) = (ptr::null(), 0usize);
            assert_eq!(
                // SAFETY: `name` and `len` are writable locals.
                unsafe { photon_family_label(f, j, &mut name, &mut len) },
                PHOTON_OK
            );
            // SAFETY: `photon_family_label` returned OK, so `name` points to
            // `len` bytes of a `'static` label name.
            let name = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), len) };
            assert_eq!(name, label.as_str().as_bytes());
        }
        let (mut name, mut len) = (ptr::null(), 0usize);
        assert_eq!(
            // SAFETY: `name` and `len` are writable locals (an out-of-range
            // index writes nothing).
            unsafe { photon_family_label(f, spec.labels.len(), &mut name, &mut len) },
            PHOTON_ERR_INVALID_HANDLE
        );
    }
}

#[test]
fn bad_calls_are_codes_with_messages_and_record_nothing() {
    let (code, message) = lookup("photon_no_such_family_total").unwrap_err();
    assert_eq!(
        code, PHOTON_ERR_UNKNOWN_FAMILY,
        "an unknown family has its own code"
    );
    // SAFETY: `photon_code_name` returns a static NUL-terminated text.
    let name = unsafe { CStr::from_ptr(photon_code_name(code)) };
    assert_eq!(name.to_str().unwrap(), "PHOTON_ERR_UNKNOWN_FAMILY");
    assert!(message.contains("photon_no_such_family_total"), "{message}");
    let mut f = PhotonFamily { index: 0 };
    assert_eq!(
        // SAFETY: breaks the contract on purpose (a NULL name): NULL is
        // refused before anything is read.
        unsafe { photon_family_lookup(ptr::null(), 4, &mut f) },
        PHOTON_ERR_NULL_ARGUMENT
    );
    assert_eq!(
        // SAFETY: breaks the contract on purpose (6 readable bytes,
        // `usize::MAX` claimed): the length is refused before anything is
        // read, which is what this checks.
        unsafe { photon_family_lookup(c"photon".as_ptr(), usize::MAX, &mut f) },
        PHOTON_ERR_INVALID_LABEL,
        "a length gone wrong is refused before it is read"
    );
    assert_eq!(
        // SAFETY: `f` is a writable local.
        unsafe { photon_family_at(u32::MAX, &mut f) },
        PHOTON_ERR_INVALID_HANDLE
    );

    let compilations = lookup("photon_compilations_total").unwrap();
    let zeros = [0u32; 3];
    // Too few, too many, NULL, a value no label has, the wrong kind.
    assert_eq!(
        // SAFETY: 3 readable values at `zeros`, of which 2 are claimed.
        unsafe { photon_family_add(compilations, zeros.as_ptr(), 2, 1) },
        PHOTON_ERR_INVALID_HANDLE
    );
    assert!(
        last().contains("takes 3 label values (target, status, model_type), not 2"),
        "{}",
        last()
    );
    assert_eq!(
        // SAFETY: breaks the contract on purpose (3 values, `usize::MAX`
        // claimed): a count over `MAX_LABELS` is refused before anything is
        // read.
        unsafe { photon_family_add(compilations, zeros.as_ptr(), usize::MAX, 1) },
        PHOTON_ERR_INVALID_HANDLE
    );
    assert_eq!(
        // SAFETY: breaks the contract on purpose (NULL for 3 values): NULL is
        // refused before anything is read.
        unsafe { photon_family_add(compilations, ptr::null(), 3, 1) },
        PHOTON_ERR_NULL_ARGUMENT
    );
    let bad_status = [0, 99, 0];
    assert_eq!(
        // SAFETY: 3 readable values at `bad_status`.
        unsafe { photon_family_add(compilations, bad_status.as_ptr(), 3, 1) },
        PHOTON_ERR_INVALID_HANDLE
    );
    assert!(last().contains("label `status`"), "{}", last());
    let never_handed = [4000, 0, 0];
    assert_eq!(
        // SAFETY: 3 readable values at `never_handed`.
        unsafe { photon_family_add(compilations, never_handed.as_ptr(), 3, 1) },
        PHOTON_ERR_INVALID_HANDLE
    );
    assert_eq!(
        // SAFETY: 3 readable values at `zeros`.
        unsafe { photon_family_observe(compilations, zeros.as_ptr(), 3, 1.0) },
        PHOTON_ERR_INVALID_ENUM
    );
    assert!(last().contains("is a counter"), "{}", last());
    let no_family = PhotonFamily { index: 1 << 30 };
    assert_eq!(
        // SAFETY: 3 readable values at `zeros`.
        unsafe { photon_family_add(no_family, zeros.as_ptr(), 3, 1) },
        PHOTON_ERR_INVALID_HANDLE
    );

    // A good call after all of that, with handles made the usual way.
    let mut target = PhotonTarget { slot: 0 };
    let text = "families-abi-mzi";
    assert_eq!(
        // SAFETY: `text.len()` readable bytes at `text.as_ptr()`; `target` is
        // a writable local.
        unsafe { photon_target_new(text.as_ptr().cast(), text.len(), &mut target) },
        PHOTON_OK
    );
    let labels = [target.slot, PHOTON_STATUS_ERROR, 0];
    assert_eq!(
        // SAFETY: 3 readable values at `labels`.
        unsafe { photon_family_add(compilations, labels.as_ptr(), 3, 2) },
        PHOTON_OK
    );
}
