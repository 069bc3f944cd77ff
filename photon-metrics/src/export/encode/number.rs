//! Numbers as the exposition formats write them.

/// Appends an integer sample value.
#[inline]
pub(crate) fn u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a signed integer sample value (an integer gauge's, exact
/// beyond `f64`'s 2⁵³).
#[inline]
pub(crate) fn i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a float sample value: integers without a fraction (as the Go
/// client writes them), `+Inf`, `-Inf` and `NaN` spelled as both formats
/// require, everything else in the shortest form that reads back exactly.
#[inline]
pub(crate) fn f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        out.extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
    } else {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    }
}

/// A bucket bound as the `le` label value, spelled as the Go client spells
/// it (`strconv.FormatFloat(v, 'g', -1, 64)`: `0.0005`, `1e-06`, `120`),
/// so series keep their identity next to Go-instrumented services.
pub(crate) fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return "0".into();
    }
    // Shortest round-trip digits and the decimal exponent, from `{:e}`.
    let sci = format!("{:e}", v);
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` writes an integer exponent");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    // 'g' with the shortest precision uses %e when exp < -4 || exp >= 21.
    if !(-4..21).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_values_match_the_go_client() {
        let cases = [
            (0.1, "0.1"),
            (0.5, "0.5"),
            (1.0, "1"),
            (120.0, "120"),
            (0.0005, "0.0005"),
            (0.0001, "0.0001"),
            (0.000_025, "2.5e-05"),
            (0.000_001, "1e-06"),
            (0.000_002_5, "2.5e-06"),
            (2.5, "2.5"),
            (1e21, "1e+21"),
            (123456.0, "123456"),
            (-0.25, "-0.25"),
            (f64::INFINITY, "+Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(go_float(v), want, "{v}");
        }
    }

    #[test]
    fn sample_values_read_back_exactly() {
        for v in [0.0, 1.0, -3.0, 0.1, 1e-7, 123.456, 1e300, 2f64.powi(60)] {
            let mut out = Vec::new();
            f64(&mut out, v);
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.parse::<f64>().unwrap(), v, "{text}");
        }
        let mut out = Vec::new();
        f64(&mut out, f64::NEG_INFINITY);
        f64(&mut out, f64::NAN);
        assert_eq!(out, b"-InfNaN");
    }
}
