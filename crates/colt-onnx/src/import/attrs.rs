//! Node attributes by name, with defaults.

use crate::proto::AttributeProto;

/// The attributes of one node.
pub(crate) struct Attrs<'a>(&'a [AttributeProto]);

impl<'a> Attrs<'a> {
    pub(crate) fn new(attrs: &'a [AttributeProto]) -> Self {
        Attrs(attrs)
    }
    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.0.iter().find(|a| a.name() == name)
    }
    /// An integer attribute, or `default`.
    pub(crate) fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).and_then(|a| a.i).unwrap_or(default)
    }
    /// A float attribute, or `default`.
    pub(crate) fn float(&self, name: &str, default: f32) -> f32 {
        self.get(name).and_then(|a| a.f).unwrap_or(default)
    }
    /// An integer list attribute, if present.
    pub(crate) fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
    /// A string attribute, or `default`.
    pub(crate) fn string(&self, name: &str, default: &str) -> String {
        self.get(name)
            .and_then(|a| a.s.as_deref())
            .map_or(default.to_string(), |s| {
                String::from_utf8_lossy(s).into_owned()
            })
    }
    /// A tensor attribute, if present.
    pub(crate) fn tensor(&self, name: &str) -> Option<&'a crate::proto::TensorProto> {
        self.get(name).and_then(|a| a.t.as_ref())
    }
    /// A float list attribute, if present.
    pub(crate) fn floats(&self, name: &str) -> Option<Vec<f32>> {
        self.get(name).map(|a| a.floats.clone())
    }
}
