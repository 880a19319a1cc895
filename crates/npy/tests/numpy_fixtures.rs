#![allow(clippy::unwrap_used)]
//! oxla-npy against NumPy's own answers (`tests/fixtures/gen_fixtures.py`,
//! committed): every `descr` spelling, `numpy.save`'s exact header bytes,
//! and hand-made headers that `numpy.load` reads or refuses.

use oxla_npy::{ByteOrder, Descr, DescrError, Element, Header, read_prelude};
use serde_json::Value;

fn rows(text: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn element(kind: &str, size: u64) -> Option<Element> {
    Some(match (kind, size) {
        ("b", 1) => Element::Bool,
        ("i", 1) => Element::I8,
        ("i", 2) => Element::I16,
        ("i", 4) => Element::I32,
        ("i", 8) => Element::I64,
        ("u", 1) => Element::U8,
        ("u", 2) => Element::U16,
        ("u", 4) => Element::U32,
        ("u", 8) => Element::U64,
        ("f", 2) => Element::F16,
        ("f", 4) => Element::F32,
        ("f", 8) => Element::F64,
        ("c", 8) => Element::C64,
        ("c", 16) => Element::C128,
        _ => return None,
    })
}

/// Every string NumPy reads as a numeric dtype is read as the same element
/// and byte order; every other string is refused (unsupported when NumPy
/// knows it, e.g. '<U5' or 'longdouble').
#[test]
fn every_descr_spelling_is_numpys() {
    let table = rows(include_str!("fixtures/descr_table.json"));
    assert!(table.len() > 2500);
    let mut accepted = 0;
    for row in &table {
        let text = row["descr"].as_str().unwrap();
        let ours = Descr::parse(text);
        let numpy = &row["numpy"];
        let want = (!numpy.is_null())
            .then(|| {
                element(
                    numpy["kind"].as_str().unwrap(),
                    numpy["size"].as_u64().unwrap(),
                )
            })
            .flatten();
        match (want, ours) {
            (Some(e), Ok(d)) => {
                let order = match (e.size(), numpy["order"].as_str().unwrap()) {
                    (1, _) | (_, "<") => ByteOrder::Little,
                    _ => ByteOrder::Big,
                };
                assert_eq!((d.element, d.byte_order), (e, order), "{text:?}");
                accepted += 1;
            }
            (None, Err(_)) => {
                // NumPy refuses it, or it is not a type gradient takes
                if !numpy.is_null() && "fc".contains(numpy["kind"].as_str().unwrap()) {
                    assert!(
                        matches!(Descr::parse(text), Err(DescrError::Unsupported(_))),
                        "{text:?}: NumPy knows this extended type; say it is unsupported"
                    );
                }
            }
            (want, ours) => panic!("{text:?}: NumPy {numpy}, expected {want:?}, got {ours:?}"),
        }
    }
    assert!(accepted > 200, "{accepted}");
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn encoded_headers_are_numpy_saves_bytes() {
    for row in rows(include_str!("fixtures/headers.json")) {
        let descr = Descr::parse(row["descr"].as_str().unwrap()).unwrap();
        let shape: Vec<usize> = row["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let fortran = row["fortran_order"].as_bool().unwrap();
        let ours = Header::new(descr, shape, fortran).encode();
        assert_eq!(
            ours,
            hex(row["hex"].as_str().unwrap()),
            "{row}:\n ours {:?}",
            String::from_utf8_lossy(&ours)
        );
    }
}

#[test]
fn hand_made_headers_load_as_numpy_loads_them() {
    for row in rows(include_str!("fixtures/load_cases.json")) {
        let text = row["text"].as_str().unwrap();
        let version = row["version"][0].as_u64().unwrap();
        let bytes: Vec<u8> = if version == 3 {
            text.as_bytes().to_vec()
        } else {
            text.chars().map(|c| c as u32 as u8).collect()
        };
        let mut file = b"\x93NUMPY".to_vec();
        if version == 1 {
            file.extend([1, 0]);
            file.extend((bytes.len() as u16).to_le_bytes());
        } else {
            file.extend([3, 0]);
            file.extend((bytes.len() as u32).to_le_bytes());
        }
        file.extend(&bytes);
        file.extend([0u8; 512]);
        let ours = read_prelude(&mut &file[..], file.len() as u64);
        let numpy = &row["numpy"];
        match (numpy.get("error"), ours) {
            (Some(_), Err(_)) => {}
            (None, Ok(p)) => {
                let shape: Vec<usize> = numpy["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect();
                assert_eq!(p.header.shape, shape, "{text:?}");
                assert_eq!(
                    p.header.descr.to_string(),
                    numpy["descr"].as_str().unwrap(),
                    "{text:?}"
                );
                // NumPy reports the layout it built; for a Fortran file of
                // one non-unit axis that layout is also C order
                if numpy["fortran_order"].as_bool().unwrap() {
                    assert!(p.header.fortran_order, "{text:?}");
                }
            }
            (want, got) => panic!("{text:?} v{version}: NumPy {want:?}, oxla {got:?}"),
        }
    }
}
