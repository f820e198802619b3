//! A DER tree for patching certificates where neither rcgen nor openssl can produce the
//! defect: parse, edit a node, encode, re-sign.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Prim(u8, Vec<u8>),
    Cons(u8, Vec<Node>),
}

fn read(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = input[0];
    let first = input[1];
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        let mut len = 0usize;
        for b in &input[2..2 + n] {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    (tag, &input[header..header + len], &input[header + len..])
}

impl Node {
    pub(crate) fn parse(input: &[u8]) -> Node {
        let (tag, value, rest) = read(input);
        assert!(rest.is_empty(), "trailing bytes");
        Node::from_parts(tag, value)
    }

    fn from_parts(tag: u8, value: &[u8]) -> Node {
        if tag & 0x20 != 0 {
            let mut children = Vec::new();
            let mut v = value;
            while !v.is_empty() {
                let (t, inner, rest) = read(v);
                children.push(Node::from_parts(t, inner));
                v = rest;
            }
            Node::Cons(tag, children)
        } else {
            Node::Prim(tag, value.to_vec())
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Node::Prim(tag, value) => tlv(*tag, value),
            Node::Cons(tag, children) => {
                let content: Vec<u8> = children.iter().flat_map(Node::encode).collect();
                tlv(*tag, &content)
            }
        }
    }

    pub(crate) fn children(&mut self) -> &mut Vec<Node> {
        match self {
            Node::Cons(_, c) => c,
            Node::Prim(..) => panic!("not constructed"),
        }
    }

    pub(crate) fn child(&mut self, i: usize) -> &mut Node {
        &mut self.children()[i]
    }
}

pub(crate) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
    out
}

pub(crate) fn seq(items: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}

pub(crate) fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut content = Vec::new();
    let mut push = |mut v: u64| {
        let mut bytes = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            bytes.push(((v & 0x7f) as u8) | 0x80);
            v >>= 7;
        }
        bytes.reverse();
        content.extend(bytes);
    };
    push(arcs[0] * 40 + arcs[1]);
    for a in &arcs[2..] {
        push(*a);
    }
    tlv(0x06, &content)
}

pub(crate) fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}
