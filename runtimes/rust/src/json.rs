// json.rs — the little JSON this program writes (flat objects of strings, numbers, booleans and nested
// objects) and a UTC timestamp, without a serialization crate.

/// An object under construction; keys keep their insertion order.
#[derive(Default)]
pub struct Object {
    fields: Vec<(String, String)>,
}

impl Object {
    pub fn new() -> Self {
        Self::default()
    }
    fn raw(&mut self, k: &str, v: String) -> &mut Self {
        self.fields.push((quote(k), v));
        self
    }
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.raw(k, quote(v))
    }
    pub fn int(&mut self, k: &str, v: i64) -> &mut Self {
        self.raw(k, v.to_string())
    }
    pub fn num(&mut self, k: &str, v: f64) -> &mut Self {
        self.raw(k, if v.is_finite() { format!("{v}") } else { "0".into() })
    }
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.raw(k, v.to_string())
    }
    pub fn obj(&mut self, k: &str, v: Object) -> &mut Self {
        self.raw(k, v.render())
    }
    pub fn render(&self) -> String {
        let body: Vec<String> = self.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{{{}}}", body.join(", "))
    }
}

/// quote: `s` as a JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// utc_now: the current time as 2026-12-06T04:05:06+00:00.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let mut o = Object::new();
        o.str("a\"", "x\\y\n").int("n", -3).bool("b", true).num("f", 1.5);
        assert_eq!(o.render(), r#"{"a\"": "x\\y\n", "n": -3, "b": true, "f": 1.5}"#);
    }

    #[test]
    fn timestamp_shape() {
        let t = utc_now();
        assert_eq!(t.len(), 25);
        assert!(t.starts_with("20") && t.ends_with("+00:00"));
    }
}
