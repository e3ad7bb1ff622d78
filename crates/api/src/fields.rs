//! Typed access to JSON request fields, so a wrong type is reported with the field's JSON path
//! (`prompts[0].mediaInfo.uri must be a string`). JSON `null` counts as absent.

use serde_json::{Map, Value};

use crate::error::Error;

/// Parses a request body as a JSON object; an empty body is `{}` (actions without parameters).
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::MalformedJson {
            reason: "the body must be a JSON object".into(),
        }),
        Err(e) => Err(Error::MalformedJson {
            reason: e.to_string(),
        }),
    }
}

/// A JSON object and its path from the body root.
#[derive(Clone)]
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    pub fn root(map: &'a Map<String, Value>) -> Obj<'a> {
        Obj {
            map,
            path: String::new(),
        }
    }

    /// `v` as an object at `path`.
    pub fn of(path: String, v: &'a Value) -> Result<Obj<'a>, Error> {
        match v {
            Value::Object(map) => Ok(Obj { map, path }),
            _ => Err(Error::field(path, "must be an object")),
        }
    }

    pub fn path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The object under `name`, if present.
    pub fn child(&self, name: &str) -> Result<Option<Obj<'a>>, Error> {
        self.get(name)
            .map(|v| Obj::of(self.path(name), v))
            .transpose()
    }

    /// The objects of the array under `name`, each with its indexed path.
    pub fn children(&self, name: &str) -> Result<Option<Vec<Obj<'a>>>, Error> {
        let Some(items) = self.opt_array(name)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| Obj::of(format!("{}[{i}]", self.path(name)), v))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::field(self.path(name), "must be a boolean")),
        }
    }

    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| Error::field(self.path(name), "must be an integer")),
            Some(_) => Err(Error::field(self.path(name), "must be an integer")),
        }
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Error::field(self.path(name), "must be a string")),
        }
    }

    pub fn req_str(&self, name: &str) -> Result<&'a str, Error> {
        self.opt_str(name)?
            .ok_or_else(|| Error::field(self.path(name), "is required"))
    }

    pub fn opt_array(&self, name: &str) -> Result<Option<&'a Vec<Value>>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(Error::field(self.path(name), "must be an array")),
        }
    }

    /// Each element of an array of strings.
    pub fn opt_strings(&self, name: &str) -> Result<Option<Vec<String>>, Error> {
        let Some(items) = self.opt_array(name)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(Error::field(
                    format!("{}[{i}]", self.path(name)),
                    "must be a string",
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn wrong_types_name_the_nested_field() {
        let map = parse_object(br#"{"a":{"b":"x"},"n":1.5,"s":[1]}"#).unwrap();
        let root = Obj::root(&map);
        let a = root.child("a").unwrap().unwrap();
        let e = a.opt_i64("b").unwrap_err();
        assert_eq!(e.to_string(), "a.b must be an integer");
        assert_eq!(
            root.opt_i64("n").unwrap_err().to_string(),
            "n must be an integer"
        );
        assert_eq!(
            root.opt_strings("s").unwrap_err().to_string(),
            "s[0] must be a string"
        );
        assert_eq!(root.opt_bool("missing"), Ok(None));
    }

    #[test]
    fn empty_body_is_an_empty_object_and_garbage_is_malformed() {
        assert!(parse_object(b"  ").unwrap().is_empty());
        assert!(matches!(
            parse_object(b"[1]"),
            Err(Error::MalformedJson { .. })
        ));
        assert!(matches!(
            parse_object(b"{"),
            Err(Error::MalformedJson { .. })
        ));
    }
}
