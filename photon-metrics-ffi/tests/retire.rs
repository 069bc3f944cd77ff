//! Series lifecycle through the C ABI: retiring a value removes its series,
//! a second retire has nothing to do, a kept handle records nothing (and
//! succeeds), a handle no value ever had is an error code, and idle expiry
//! is set by label.

use photon_metrics_ffi::error::*;
use photon_metrics_ffi::exporter::*;
use photon_metrics_ffi::labels::*;
use photon_metrics_ffi::lifecycle::*;
use photon_metrics_ffi::record::*;
use std::ffi::CStr;
use std::ptr;

fn render() -> String {
    let mut needed = 0usize;
    assert_eq!(
        // SAFETY: a NULL buffer with capacity 0 is allowed (nothing is
        // written to it); `needed` is a writable local.
        unsafe { photon_exporter_render(ptr::null_mut(), 0, &mut needed) },
        PHOTON_OK
    );
    let mut buffer = vec![0u8; needed + 4096];
    let mut again = 0usize;
    // SAFETY: `buffer` is writable for `buffer.len()` bytes; `again` is a
    // writable local.
    let code =
        unsafe { photon_exporter_render(buffer.as_mut_ptr().cast(), buffer.len(), &mut again) };
    assert_eq!(code, PHOTON_OK);
    CStr::from_bytes_until_nul(&buffer)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn retiring_from_c_removes_the_series_and_old_handles_record_nothing() {
    assert_eq!(
        // SAFETY: `c""` is NUL-terminated and static; no labels (NULL with a
        // count of 0).
        unsafe { photon_exporter_install(c"".as_ptr(), ptr::null(), 0) },
        PHOTON_OK
    );
    let mut device = PhotonDeviceId { slot: u32::MAX };
    let text = "opu-c-retired";
    assert_eq!(
        // SAFETY: `text.len()` readable bytes at `text.as_ptr()`; `device` is
        // a writable local.
        unsafe { photon_device_id_new(text.as_ptr().cast(), text.len(), &mut device) },
        PHOTON_OK
    );
    assert_eq!(
        photon_set_device_status(device, PHOTON_DEVICE_TYPE_MZI, false),
        PHOTON_OK
    );
    assert!(render().contains("device_id=\"opu-c-retired\""));

    let mut retired = false;
    assert_eq!(
        // SAFETY: `retired` is a writable local.
        unsafe { photon_device_id_retire(device, &mut retired) },
        PHOTON_OK
    );
    assert!(retired);
    // The render after a retirement serves the retired series once more,
    // with their final values; the one after lacks them.
    assert!(render().contains("device_id=\"opu-c-retired\""));
    assert!(!render().contains("opu-c-retired"));
    assert_eq!(
        // SAFETY: `retired` is a writable local.
        unsafe { photon_device_id_retire(device, &mut retired) },
        PHOTON_OK
    );
    assert!(!retired, "nothing left to retire");
    assert_eq!(
        // SAFETY: a NULL `retired` is allowed (the caller does not ask).
        unsafe { photon_device_id_retire(device, ptr::null_mut()) },
        PHOTON_OK,
        "NULL: the caller does not ask"
    );
    // The kept handle records nothing and is not an error.
    assert_eq!(photon_set_temperature_celsius(device, 90.0), PHOTON_OK);
    let text = render();
    assert!(!text.contains("opu-c-retired"), "{text}");
    assert!(
        text.contains("photon_metrics_stale_records_total{label=\"device_id\"} 1"),
        "{text}"
    );

    // A handle no value ever had is refused.
    assert_eq!(
        // SAFETY: `retired` is a writable local.
        unsafe { photon_location_retire(PhotonLocation { slot: 4000 }, &mut retired) },
        PHOTON_ERR_INVALID_HANDLE
    );
    assert_eq!(
        photon_set_label_idle_expiry(PHOTON_LABEL_LOCATION, 60_000),
        PHOTON_OK
    );
    assert_eq!(
        photon_metrics::labels::idle_expiry(photon_metrics::labels::Location::LABEL),
        Some(std::time::Duration::from_secs(60))
    );
    assert_eq!(
        photon_set_label_idle_expiry(PHOTON_LABEL_LOCATION, 0),
        PHOTON_OK
    );
    assert_eq!(
        photon_metrics::labels::idle_expiry(photon_metrics::labels::Location::LABEL),
        None
    );
    assert_eq!(photon_set_label_idle_expiry(9, 1), PHOTON_ERR_INVALID_ENUM);
}
