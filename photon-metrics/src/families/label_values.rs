//! Labels found by name at run time, with their values as raw handles:
//! what the C ABI, the C++ wrapper and the Python module make label values
//! with, so that a label added to the catalog (or declared by the Rust
//! application) is usable from every language without a binding of its
//! own, as [`Dynamic`](super::Dynamic) makes every family recordable.

use crate::labels::{LabelError, LabelName, LabelText, OpenLabel, OpenValue};

/// A label of some registered family, the catalog's or an application's,
/// open or closed, found by its name. `Copy`; look it up once and keep it.
///
/// ```
/// use photon_metrics::families::{Dynamic, DynamicLabel};
///
/// let pass = DynamicLabel::lookup("pass").unwrap();
/// let target = DynamicLabel::lookup("target").unwrap();
/// let cse = pass.value("cse")?;
/// let passes = Dynamic::lookup("photon_pass_duration_seconds").unwrap();
/// passes.observe(&[cse, target.value("mzi-64x64")?], 0.002)?;
/// assert_eq!(&*pass.text(cse).unwrap(), "cse");
/// let status = DynamicLabel::lookup("status").unwrap();
/// assert_eq!(status.value("error")?, 1); // a closed label's value is its index
/// assert!(status.value("exploded").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DynamicLabel(LabelName);

impl DynamicLabel {
    /// The label called `name` of some registered family (the first
    /// registered that has one of that name).
    pub fn lookup(name: &str) -> Option<Self> {
        crate::registry::specs()
            .into_iter()
            .flat_map(|spec| spec.labels.iter().copied())
            .find(|label| label.as_str() == name)
            .map(DynamicLabel)
    }

    /// The label's name as exported.
    pub fn name(&self) -> &'static str {
        self.0.as_str()
    }

    /// What it is: its name and its values (a closed set, or an open
    /// label's interner).
    pub fn label_name(&self) -> LabelName {
        self.0
    }

    /// The open label, for [`labels::set_cap`](crate::labels::set_cap) and
    /// its siblings; `None` for a closed label.
    pub fn open(&self) -> Option<OpenLabel> {
        self.0.open()
    }

    /// The raw value [`Dynamic`](super::Dynamic)'s records take for `text`:
    /// a closed label's index of that value, or an open label's handle,
    /// validated and interned under its cap (`__overflow__`'s, 0, past it).
    ///
    /// # Errors
    /// [`LabelError::UnknownVariant`] for a text no closed value has;
    /// [`LabelError::Empty`] or [`LabelError::TooLong`] for an open one.
    pub fn value(&self, text: &str) -> Result<u32, LabelError> {
        match self.0 {
            LabelName::Open { def, .. } => {
                OpenValue::intern(OpenLabel::new(def), text).map(OpenValue::to_raw)
            }
            LabelName::Closed { name, values } => values
                .iter()
                .position(|v| *v == text)
                .map(|i| i as u32)
                .ok_or_else(|| LabelError::UnknownVariant {
                    label: name,
                    value: text.to_string(),
                    expected: values.join(", "),
                }),
        }
    }

    /// The text of the value `raw` stands for, or `None` when it stands
    /// for none (an open value retired, or never handed out).
    pub fn text(&self, raw: u32) -> Option<LabelText> {
        match self.0 {
            LabelName::Open { def, .. } => {
                let open = OpenLabel::new(def);
                OpenValue::from_raw(open, raw)?.text(open)
            }
            LabelName::Closed { values, .. } => {
                values.get(raw as usize).map(|v| LabelText::constant(v))
            }
        }
    }

    /// Retires the open value `raw`, as its type's `retire()` does; `false`
    /// when there was nothing to retire (retired already, the overflow
    /// value, a handle never handed out, or a closed label).
    pub fn retire(&self, raw: u32) -> bool {
        match self.0.open() {
            Some(open) => OpenValue::from_raw(open, raw).is_some_and(|v| v.retire(open)),
            None => false,
        }
    }
}
