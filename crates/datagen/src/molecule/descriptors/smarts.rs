//! The part of SMARTS that RDKit's descriptor definitions are written in: bracket atoms with
//! `#n`, element symbols (upper case aliphatic, lower case aromatic), `a`, `A`, `*`, `H`, `D`,
//! `X`, `v`, `R`/`R0`, charges and recursive `$(…)`, joined by `!`, `&`, `,` and `;`; bonds
//! `-`, `=`, `#`, `:`, `~`, `@` and their negations; branches. Ring closures are not needed
//! by any pattern here and are refused.
//!
//! Matching is over a [`View`] of a molecule, with hydrogens implicit (as counts) or, for
//! Crippen's hydrogen types, as atoms of their own. Counting follows RDKit's
//! `SubstructMatch` with `uniquify`: matches that cover the same set of atoms count once.

use super::super::{BondOrder, Molecule};
use super::elements::ELEMENTS;

/// A molecule as patterns see it: per-atom facts beside the molecule's own bonds.
pub struct View<'m> {
    pub atoms: Vec<ViewAtom>,
    pub bonds: std::borrow::Cow<'m, [Vec<(usize, BondOrder, bool)>]>,
    /// Results of recursive patterns already tested, by (pattern number, atom): 0 not yet,
    /// 1 no, 2 yes. A recursive pattern's answer depends on the atom alone, so every
    /// pattern that contains it shares it.
    known: std::cell::RefCell<Vec<u8>>,
}

/// A number per distinct recursive pattern text, the same wherever the text appears.
fn recursive_id(text: &str) -> usize {
    static IDS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut ids = IDS.lock().expect("no panic while holding it");
    match ids.iter().position(|t| t == text) {
        Some(i) => i,
        None => {
            ids.push(text.to_string());
            ids.len() - 1
        }
    }
}

#[derive(Clone, Debug)]
pub struct ViewAtom {
    pub element: u8,
    pub aromatic: bool,
    pub charge: i8,
    /// Hydrogens carried as a count (not as atoms of the view).
    pub implicit_h: u8,
    /// All hydrogens: the count plus hydrogen atoms bonded to this one.
    pub total_h: u8,
    pub in_ring: bool,
    pub valence: u8,
}

impl<'m> View<'m> {
    /// The molecule with its hydrogens as counts.
    pub fn implicit(m: &'m Molecule) -> View<'m> {
        let atoms = (0..m.n_atoms())
            .map(|a| {
                let atom = &m.atoms[a];
                let h_atoms = m.bonds[a]
                    .iter()
                    .filter(|b| m.atoms[b.0].element == 1)
                    .count();
                ViewAtom {
                    element: atom.element,
                    aromatic: atom.aromatic,
                    charge: atom.charge,
                    implicit_h: atom.hydrogens,
                    total_h: atom.hydrogens + h_atoms as u8,
                    in_ring: atom.in_ring,
                    valence: total_valence(m, a),
                }
            })
            .collect();
        View {
            atoms,
            bonds: std::borrow::Cow::Borrowed(&m.bonds),
            known: Default::default(),
        }
    }

    /// The molecule with every counted hydrogen made an atom bonded to its owner (RDKit's
    /// `AddHs`), appended after the molecule's own atoms in the order of their owners.
    pub fn with_hydrogen_atoms(m: &'m Molecule) -> View<'m> {
        let mut view = View::implicit(m);
        let bonds = view.bonds.to_mut();
        for a in 0..m.n_atoms() {
            for _ in 0..view.atoms[a].implicit_h {
                let h = view.atoms.len();
                view.atoms.push(ViewAtom {
                    element: 1,
                    aromatic: false,
                    charge: 0,
                    implicit_h: 0,
                    total_h: 0,
                    in_ring: false,
                    valence: 1,
                });
                bonds.push(vec![(a, BondOrder::Single, false)]);
                bonds[a].push((h, BondOrder::Single, false));
            }
            view.atoms[a].implicit_h = 0;
        }
        view
    }

    /// Recursive pattern `id` at atom `a`, from the cache or from `test`.
    fn recursive(&self, id: usize, a: usize, test: impl FnOnce() -> bool) -> bool {
        let slot = id * self.atoms.len() + a;
        if let Some(&k) = self.known.borrow().get(slot) {
            if k != 0 {
                return k == 2;
            }
        }
        let result = test();
        let mut known = self.known.borrow_mut();
        if known.len() <= slot {
            known.resize((id + 1) * self.atoms.len(), 0);
        }
        known[slot] = 1 + result as u8;
        result
    }

    fn degree(&self, a: usize) -> u8 {
        self.bonds[a].len() as u8
    }
}

/// An atom's total valence as RDKit reports it: bond orders (aromatic 1.5, rounded down)
/// plus hydrogens; an uncharged aromatic atom above its element's default valence (the NH
/// of pyrrole, thiophene's S) gets the default valence.
pub fn total_valence(m: &Molecule, a: usize) -> u8 {
    let atom = &m.atoms[a];
    let twice: u32 = m.bonds[a]
        .iter()
        .map(|b| match b.1 {
            BondOrder::Aromatic => 3,
            other => 2 * other.valence(),
        })
        .sum();
    let v = (twice / 2) as i32 + atom.hydrogens as i32;
    let default = ELEMENTS[atom.element as usize].default_valence;
    if atom.aromatic && atom.charge == 0 && default > 0 && v > default {
        default as u8
    } else {
        v as u8
    }
}

/// Whether a hydrogen counted on an atom (not an atom of the view) matches a pattern.
#[derive(Clone, Debug)]
pub enum HydrogenTest {
    Always,
    /// The pattern without its hydrogen, rooted at the atom that carries it; and whether an
    /// atom of it bonded to that root could be one of the owner's other hydrogens
    /// (`[#1]O[!#6;!#7;!#8;!#16]` on water), which only hydrogens as atoms can tell.
    Rooted {
        pattern: Pattern,
        sees_siblings: bool,
    },
}

impl HydrogenTest {
    /// Whether this test must see hydrogens as atoms for an owner with `hydrogens` of them.
    pub fn needs_hydrogen_atoms(&self, hydrogens: u8) -> bool {
        matches!(
            self,
            HydrogenTest::Rooted {
                sees_siblings: true,
                ..
            }
        ) && hydrogens >= 2
    }

    /// Whether a hydrogen counted on atom `owner` matches (see
    /// [`HydrogenTest::needs_hydrogen_atoms`] for when this answer is not enough).
    pub fn matches_on(&self, view: &View, owner: usize) -> bool {
        match self {
            HydrogenTest::Always => true,
            HydrogenTest::Rooted { pattern, .. } => pattern.matches_at(view, owner),
        }
    }
}

/// The most atoms a pattern may have.
const MAX_PATTERN_ATOMS: usize = 16;

/// A partial match: molecule atoms of the pattern's first `len` atoms, kept on the stack.
struct Mapping {
    atoms: [usize; MAX_PATTERN_ATOMS],
    len: usize,
}

impl Mapping {
    fn new(start: usize) -> Mapping {
        let mut atoms = [0; MAX_PATTERN_ATOMS];
        atoms[0] = start;
        Mapping { atoms, len: 1 }
    }

    fn as_slice(&self) -> &[usize] {
        &self.atoms[..self.len]
    }

    fn push(&mut self, a: usize) {
        self.atoms[self.len] = a;
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len -= 1;
    }
}

/// Results of atom tests already made: 0 unknown, 1 no, 2 yes.
struct Memo {
    known: Vec<u8>,
    atoms: usize,
}

impl Memo {
    fn test(&mut self, pattern: &Pattern, view: &View, i: usize, a: usize) -> bool {
        let slot = &mut self.known[i * self.atoms + a];
        if *slot == 0 {
            *slot = 1 + atom_matches(&pattern.atoms[i], view, a) as u8;
        }
        *slot == 2
    }
}

#[derive(Clone, Debug)]
enum AtomExpr {
    Any,
    Not(Box<AtomExpr>),
    And(Vec<AtomExpr>),
    Or(Vec<AtomExpr>),
    AtomicNumber(u8),
    Element(u8, bool),
    Aromatic(bool),
    Hydrogens(u8),
    Degree(u8),
    Connections(u8),
    Valence(u8),
    InRing(bool),
    Charge(i8),
    /// A recursive pattern, with its number ([`recursive_id`]) for [`View`]'s cache.
    Recursive(Box<Pattern>, usize),
}

#[derive(Clone, Debug)]
enum BondExpr {
    /// Unwritten: single or aromatic.
    Implicit,
    Any,
    Order(BondOrder),
    Ring,
    Not(Box<BondExpr>),
    And(Vec<BondExpr>),
    Or(Vec<BondExpr>),
}

/// A parsed pattern: atoms in writing order, each after the first bonded to an earlier one.
#[derive(Clone, Debug)]
pub struct Pattern {
    atoms: Vec<AtomExpr>,
    /// For atom `i > 0`: its parent and the bond to it.
    parents: Vec<(usize, BondExpr)>,
}

/// Why a pattern was refused, with the byte position.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("SMARTS `{pattern}`: {why} at position {at}")]
pub struct SmartsError {
    pub pattern: String,
    pub at: usize,
    pub why: &'static str,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, SmartsError> {
        let mut p = Parser {
            text: text.as_bytes(),
            at: 0,
            source: text,
        };
        let pattern = p.pattern()?;
        if p.at != p.text.len() {
            return Err(p.error("unexpected character"));
        }
        Ok(pattern)
    }

    /// Whether the first atom could match an atom of element `z`, aromaticity and total
    /// hydrogen count as given (false only when it cannot, whatever else the atom is).
    pub fn first_could_match(&self, z: u8, aromatic: bool, hydrogens: u8) -> bool {
        could_match(&self.atoms[0], z, aromatic, hydrogens) != Some(false)
    }

    /// For a pattern whose first atom is a hydrogen bonded to the second (Crippen's
    /// `[#1]O[CX4,c]`): the test of a hydrogen counted on an atom, as a pattern rooted at
    /// that atom (`O[CX4,c]`). `Always` for a lone hydrogen (`[#1]`); `None` when the
    /// pattern does not have that shape or cannot match such a hydrogen.
    pub fn for_counted_hydrogen(&self) -> Option<HydrogenTest> {
        if could_match(&self.atoms[0], 1, false, 0) != Some(true) {
            return None;
        }
        if self.atoms.len() == 1 {
            return Some(HydrogenTest::Always);
        }
        let only_child = self.parents.iter().filter(|p| p.0 == 0).count() == 1;
        let (first_parent, bond) = &self.parents[0];
        if *first_parent != 0 || !only_child || !bond_matches(bond, BondOrder::Single, false) {
            return None;
        }
        let sees_siblings = self.parents[1..].iter().enumerate().any(|(k, (p, _))| {
            *p == 1 && could_match(&self.atoms[k + 2], 1, false, 0) != Some(false)
        });
        Some(HydrogenTest::Rooted {
            pattern: Pattern {
                atoms: self.atoms[1..].to_vec(),
                parents: self.parents[1..]
                    .iter()
                    .map(|(p, b)| (p - 1, b.clone()))
                    .collect(),
            },
            sees_siblings,
        })
    }

    /// Whether the pattern matches with its first atom on `atom`.
    pub fn matches_at(&self, view: &View, atom: usize) -> bool {
        let mut found = false;
        self.each_match(view, atom, &mut |_| {
            found = true;
            false
        });
        found
    }

    /// The number of matches with distinct atom sets (RDKit's uniquified count).
    pub fn count_unique(&self, view: &View) -> usize {
        if self.atoms.len() == 1 {
            return (0..view.atoms.len())
                .filter(|&a| self.matches_at(view, a))
                .count();
        }
        // Each (pattern atom, molecule atom) test is made once.
        let mut memo = Memo {
            known: vec![0; self.atoms.len() * view.atoms.len()],
            atoms: view.atoms.len(),
        };
        // The sorted atom sets found so far, one after another.
        let width = self.atoms.len();
        let mut seen: Vec<usize> = Vec::new();
        let first_bond = self.parents.iter().find(|p| p.0 == 0).map(|p| &p.1);
        for start in 0..view.atoms.len() {
            // The first atom's first bond is checked before the (dearer) atom test.
            let bonded = first_bond.is_none_or(|b| {
                view.bonds[start]
                    .iter()
                    .any(|&(_, order, in_ring)| bond_matches(b, order, in_ring))
            });
            if !bonded || !memo.test(self, view, 0, start) {
                continue;
            }
            let mut mapping = Mapping::new(start);
            self.extend(view, &mut mapping, &mut Some(&mut memo), &mut |found| {
                let mut key = Mapping::new(0);
                key.atoms[..width].copy_from_slice(found);
                key.atoms[..width].sort_unstable();
                let key = &key.atoms[..width];
                if !seen.chunks_exact(width).any(|k| k == key) {
                    seen.extend_from_slice(key);
                }
                true
            });
        }
        seen.len() / width
    }

    /// Calls `f` with each mapping (pattern atom -> view atom) whose first atom is `start`,
    /// until `f` returns false.
    fn each_match(&self, view: &View, start: usize, f: &mut dyn FnMut(&[usize]) -> bool) {
        if !atom_matches(&self.atoms[0], view, start) {
            return;
        }
        if self.atoms.len() == 1 {
            f(&[start]);
            return;
        }
        let mut mapping = Mapping::new(start);
        self.extend(view, &mut mapping, &mut None, f);
    }

    /// Extends a partial mapping by the next pattern atom; false once `f` asked to stop.
    fn extend(
        &self,
        view: &View,
        mapping: &mut Mapping,
        memo: &mut Option<&mut Memo>,
        f: &mut dyn FnMut(&[usize]) -> bool,
    ) -> bool {
        let i = mapping.len;
        if i == self.atoms.len() {
            return f(mapping.as_slice());
        }
        let (parent, bond) = &self.parents[i - 1];
        let from = mapping.atoms[*parent];
        for &(to, order, in_ring) in &view.bonds[from] {
            if mapping.as_slice().contains(&to) || !bond_matches(bond, order, in_ring) {
                continue;
            }
            let fits = match memo {
                Some(memo) => memo.test(self, view, i, to),
                None => atom_matches(&self.atoms[i], view, to),
            };
            if !fits {
                continue;
            }
            mapping.push(to);
            let go_on = self.extend(view, mapping, memo, f);
            mapping.pop();
            if !go_on {
                return false;
            }
        }
        true
    }
}

/// An atom test on what is known of an atom (element, aromaticity, hydrogens): `Some` when
/// those decide it, `None` when it depends on more (Kleene's three-valued logic).
fn could_match(e: &AtomExpr, z: u8, aromatic: bool, hydrogens: u8) -> Option<bool> {
    match e {
        AtomExpr::Any => Some(true),
        AtomExpr::AtomicNumber(x) => Some(*x == z),
        AtomExpr::Element(x, a) => Some(*x == z && *a == aromatic),
        AtomExpr::Aromatic(a) => Some(*a == aromatic),
        AtomExpr::Hydrogens(n) => Some(*n == hydrogens),
        AtomExpr::Not(inner) => could_match(inner, z, aromatic, hydrogens).map(|v| !v),
        AtomExpr::And(all) => {
            let mut result = Some(true);
            for x in all {
                match could_match(x, z, aromatic, hydrogens) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        AtomExpr::Or(any) => {
            let mut result = Some(false);
            for x in any {
                match could_match(x, z, aromatic, hydrogens) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        _ => None,
    }
}

fn atom_matches(e: &AtomExpr, view: &View, a: usize) -> bool {
    let atom = &view.atoms[a];
    match e {
        AtomExpr::Any => true,
        AtomExpr::Not(inner) => !atom_matches(inner, view, a),
        AtomExpr::And(all) => all.iter().all(|x| atom_matches(x, view, a)),
        AtomExpr::Or(any) => any.iter().any(|x| atom_matches(x, view, a)),
        AtomExpr::AtomicNumber(z) => atom.element == *z,
        AtomExpr::Element(z, aromatic) => atom.element == *z && atom.aromatic == *aromatic,
        AtomExpr::Aromatic(aromatic) => atom.aromatic == *aromatic,
        AtomExpr::Hydrogens(n) => atom.total_h == *n,
        AtomExpr::Degree(n) => view.degree(a) == *n,
        AtomExpr::Connections(n) => view.degree(a) + atom.implicit_h == *n,
        AtomExpr::Valence(n) => atom.valence == *n,
        AtomExpr::InRing(r) => atom.in_ring == *r,
        AtomExpr::Charge(c) => atom.charge == *c,
        AtomExpr::Recursive(p, id) => view.recursive(*id, a, || p.matches_at(view, a)),
    }
}

fn bond_matches(e: &BondExpr, order: BondOrder, in_ring: bool) -> bool {
    match e {
        BondExpr::Implicit => matches!(order, BondOrder::Single | BondOrder::Aromatic),
        BondExpr::Any => true,
        BondExpr::Order(o) => order == *o,
        BondExpr::Ring => in_ring,
        BondExpr::Not(inner) => !bond_matches(inner, order, in_ring),
        BondExpr::And(all) => all.iter().all(|x| bond_matches(x, order, in_ring)),
        BondExpr::Or(any) => any.iter().any(|x| bond_matches(x, order, in_ring)),
    }
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    source: &'a str,
}

const ORGANIC: [(&str, u8, bool); 16] = [
    ("Cl", 17, false),
    ("Br", 35, false),
    ("B", 5, false),
    ("C", 6, false),
    ("N", 7, false),
    ("O", 8, false),
    ("P", 15, false),
    ("S", 16, false),
    ("F", 9, false),
    ("I", 53, false),
    ("b", 5, true),
    ("c", 6, true),
    ("n", 7, true),
    ("o", 8, true),
    ("p", 15, true),
    ("s", 16, true),
];

impl<'a> Parser<'a> {
    fn error(&self, why: &'static str) -> SmartsError {
        SmartsError {
            pattern: self.source.to_string(),
            at: self.at,
            why,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        (self.at > start).then(|| {
            std::str::from_utf8(&self.text[start..self.at])
                .expect("digits")
                .parse()
                .expect("a small number")
        })
    }

    /// A chain of atoms with branches, up to the end or a closing parenthesis.
    fn pattern(&mut self) -> Result<Pattern, SmartsError> {
        let mut atoms = vec![self.atom()?];
        let mut parents = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        let mut previous = 0;
        loop {
            match self.peek() {
                None => break,
                Some(b'(') => {
                    self.at += 1;
                    stack.push(previous);
                }
                Some(b')') if !stack.is_empty() => {
                    self.at += 1;
                    previous = stack.pop().expect("checked");
                }
                Some(b')') => break,
                Some(c) if c.is_ascii_digit() || c == b'%' => {
                    return Err(self.error("ring closures are not supported"))
                }
                Some(_) => {
                    let bond = self.bond()?;
                    atoms.push(self.atom()?);
                    parents.push((previous, bond));
                    previous = atoms.len() - 1;
                }
            }
        }
        if !stack.is_empty() {
            return Err(self.error("unclosed branch"));
        }
        if atoms.len() > MAX_PATTERN_ATOMS {
            return Err(self.error("more atoms than a pattern here may have (16)"));
        }
        Ok(Pattern { atoms, parents })
    }

    fn atom(&mut self) -> Result<AtomExpr, SmartsError> {
        match self.peek() {
            Some(b'[') => {
                self.at += 1;
                let e = self.low()?;
                if self.peek() != Some(b']') {
                    return Err(self.error("expected `]`"));
                }
                self.at += 1;
                Ok(e)
            }
            Some(b'*') => {
                self.at += 1;
                Ok(AtomExpr::Any)
            }
            Some(b'a') => {
                self.at += 1;
                Ok(AtomExpr::Aromatic(true))
            }
            Some(b'A') => {
                self.at += 1;
                Ok(AtomExpr::Aromatic(false))
            }
            _ => self.symbol().ok_or_else(|| self.error("expected an atom")),
        }
    }

    /// An element symbol of the organic subset (outside brackets) or any element (inside).
    fn symbol(&mut self) -> Option<AtomExpr> {
        let rest = &self.source[self.at..];
        for (s, z, aromatic) in ORGANIC {
            if rest.starts_with(s) {
                self.at += s.len();
                return Some(AtomExpr::Element(z, aromatic));
            }
        }
        None
    }

    fn low(&mut self) -> Result<AtomExpr, SmartsError> {
        let mut parts = vec![self.or()?];
        while self.peek() == Some(b';') {
            self.at += 1;
            parts.push(self.or()?);
        }
        Ok(one_or(parts, and_cheap_first))
    }

    fn or(&mut self) -> Result<AtomExpr, SmartsError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(b',') {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(one_or(parts, AtomExpr::Or))
    }

    fn and(&mut self) -> Result<AtomExpr, SmartsError> {
        let mut parts = vec![self.not()?];
        loop {
            match self.peek() {
                Some(b'&') => {
                    self.at += 1;
                    parts.push(self.not()?);
                }
                Some(b';' | b',' | b']' | b')') | None => break,
                Some(_) => parts.push(self.not()?),
            }
        }
        Ok(one_or(parts, and_cheap_first))
    }

    fn not(&mut self) -> Result<AtomExpr, SmartsError> {
        if self.peek() == Some(b'!') {
            self.at += 1;
            return Ok(AtomExpr::Not(Box::new(self.not()?)));
        }
        self.primitive()
    }

    fn primitive(&mut self) -> Result<AtomExpr, SmartsError> {
        let c = self
            .peek()
            .ok_or_else(|| self.error("pattern ends early"))?;
        let count = |p: &mut Self| p.number().unwrap_or(1) as u8;
        let e = match c {
            b'#' => {
                self.at += 1;
                let z = self
                    .number()
                    .ok_or_else(|| self.error("`#` needs a number"))?;
                AtomExpr::AtomicNumber(z as u8)
            }
            b'$' => {
                self.at += 1;
                if self.peek() != Some(b'(') {
                    return Err(self.error("`$` needs `(`"));
                }
                self.at += 1;
                let start = self.at;
                let inner = self.pattern()?;
                if self.peek() != Some(b')') {
                    return Err(self.error("expected `)`"));
                }
                let id = recursive_id(&self.source[start..self.at]);
                self.at += 1;
                AtomExpr::Recursive(Box::new(inner), id)
            }
            b'*' => {
                self.at += 1;
                AtomExpr::Any
            }
            b'a' => {
                self.at += 1;
                AtomExpr::Aromatic(true)
            }
            b'A' => {
                self.at += 1;
                AtomExpr::Aromatic(false)
            }
            b'H' => {
                self.at += 1;
                AtomExpr::Hydrogens(count(self))
            }
            b'D' => {
                self.at += 1;
                AtomExpr::Degree(count(self))
            }
            b'X' => {
                self.at += 1;
                AtomExpr::Connections(count(self))
            }
            b'v' => {
                self.at += 1;
                AtomExpr::Valence(count(self))
            }
            b'R' => {
                self.at += 1;
                match self.number() {
                    None => AtomExpr::InRing(true),
                    Some(0) => AtomExpr::InRing(false),
                    Some(_) => return Err(self.error("`R<n>` for n > 0 is not supported")),
                }
            }
            b'+' | b'-' => {
                self.at += 1;
                let sign: i8 = if c == b'+' { 1 } else { -1 };
                let mut n = 1i8;
                match self.number() {
                    Some(k) => n = k as i8,
                    None => {
                        while self.peek() == Some(c) {
                            self.at += 1;
                            n += 1;
                        }
                    }
                }
                AtomExpr::Charge(sign * n)
            }
            _ => self
                .symbol()
                .ok_or_else(|| self.error("unknown atom primitive"))?,
        };
        Ok(e)
    }

    fn bond(&mut self) -> Result<BondExpr, SmartsError> {
        if !self.peek().is_some_and(|c| b"-=#:~@!&,;".contains(&c)) {
            return Ok(BondExpr::Implicit);
        }
        self.bond_low()
    }

    fn bond_low(&mut self) -> Result<BondExpr, SmartsError> {
        let mut parts = vec![self.bond_or()?];
        while self.peek() == Some(b';') {
            self.at += 1;
            parts.push(self.bond_or()?);
        }
        Ok(one_or(parts, BondExpr::And))
    }

    fn bond_or(&mut self) -> Result<BondExpr, SmartsError> {
        let mut parts = vec![self.bond_and()?];
        while self.peek() == Some(b',') {
            self.at += 1;
            parts.push(self.bond_and()?);
        }
        Ok(one_or(parts, BondExpr::Or))
    }

    fn bond_and(&mut self) -> Result<BondExpr, SmartsError> {
        let mut parts = vec![self.bond_not()?];
        loop {
            match self.peek() {
                Some(b'&') => {
                    self.at += 1;
                    parts.push(self.bond_not()?);
                }
                Some(c) if b"-=#:~@!".contains(&c) => parts.push(self.bond_not()?),
                _ => break,
            }
        }
        Ok(one_or(parts, BondExpr::And))
    }

    fn bond_not(&mut self) -> Result<BondExpr, SmartsError> {
        let c = self
            .peek()
            .ok_or_else(|| self.error("pattern ends in a bond"))?;
        self.at += 1;
        Ok(match c {
            b'!' => BondExpr::Not(Box::new(self.bond_not()?)),
            b'-' => BondExpr::Order(BondOrder::Single),
            b'=' => BondExpr::Order(BondOrder::Double),
            b'#' => BondExpr::Order(BondOrder::Triple),
            b':' => BondExpr::Order(BondOrder::Aromatic),
            b'~' => BondExpr::Any,
            b'@' => BondExpr::Ring,
            _ => {
                self.at -= 1;
                return Err(self.error("unknown bond"));
            }
        })
    }
}

/// Whether evaluating an expression may search the molecule (a recursive pattern).
fn searches(e: &AtomExpr) -> bool {
    match e {
        AtomExpr::Recursive(..) => true,
        AtomExpr::Not(inner) => searches(inner),
        AtomExpr::And(all) | AtomExpr::Or(all) => all.iter().any(searches),
        _ => false,
    }
}

/// A conjunction with its cheap tests first: the same truth, fewer searches.
fn and_cheap_first(mut parts: Vec<AtomExpr>) -> AtomExpr {
    parts.sort_by_key(searches);
    AtomExpr::And(parts)
}

fn one_or<T>(mut parts: Vec<T>, join: fn(Vec<T>) -> T) -> T {
    if parts.len() == 1 {
        parts.pop().expect("one")
    } else {
        join(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(pattern: &str, smiles: &str) -> usize {
        let m = Molecule::from_smiles(smiles).unwrap();
        Pattern::parse(pattern)
            .unwrap()
            .count_unique(&View::implicit(&m))
    }

    #[test]
    fn primitives_logic_and_bonds() {
        assert_eq!(count("[#6]", "CCO"), 2);
        assert_eq!(count("[!#6;!#1]", "CCO"), 1);
        assert_eq!(count("[CH3]", "CC(C)O"), 2);
        assert_eq!(count("[c]", "Cc1ccccc1"), 6);
        assert_eq!(count("[C,c;H1]", "Cc1ccccc1"), 5);
        assert_eq!(count("[OX1]", "CC(=O)O"), 1);
        assert_eq!(count("[O;-]", "CC(=O)[O-]"), 1);
        assert_eq!(count("[N;+,+2]", "C[N+](C)(C)C"), 1);
        assert_eq!(count("[NH2+0]", "CCN"), 1);
        assert_eq!(count("C=O", "CC(=O)O"), 1);
        assert_eq!(count("C~O", "CC(=O)O"), 2);
        // A bond pattern counts each bond once, whichever way round it matches.
        assert_eq!(count("[!D1]-!@[!D1]", "CCCC"), 1);
        assert_eq!(count("[!D1]-,:;!@[!D1]", "c1ccccc1-c1ccccc1"), 1);
        assert_eq!(count("C(=[O;!R])N", "CC(=O)NC"), 1);
        assert_eq!(count("[R]", "C1CC1C"), 3);
        assert_eq!(count("[R0]", "C1CC1C"), 1);
        // Recursive: an O bonded to a carbonyl carbon.
        assert_eq!(count("[O;$(O-C=O)]", "CC(=O)OC"), 1);
        assert_eq!(count("[$([O,S;H1;v2]-[!$(*=[O,N,P,S])])]", "CC(=O)O"), 0);
        assert_eq!(count("[$([O,S;H1;v2]-[!$(*=[O,N,P,S])])]", "CCO"), 1);
    }

    #[test]
    fn counted_hydrogens_match_from_their_owner() {
        // Methanol: the hydroxyl H is `[#1]O`; the methyl Hs are not, but are `[#1][#6]`.
        let m = Molecule::from_smiles("CO").unwrap();
        let v = View::implicit(&m);
        let test = |p: &str| Pattern::parse(p).unwrap().for_counted_hydrogen().unwrap();
        assert!(test("[#1]O").matches_on(&v, 1) && !test("[#1]O").matches_on(&v, 0));
        assert!(test("[#1][#6]").matches_on(&v, 0));
        assert!(test("[#1]O[CX4,c]").matches_on(&v, 1));
        assert!(test("[#1]").matches_on(&v, 0));
        // On water, only hydrogens as atoms see the other hydrogen as O's neighbour.
        let siblings = test("[#1]O[!#6;!#7;!#8;!#16]");
        assert!(siblings.needs_hydrogen_atoms(2) && !siblings.needs_hydrogen_atoms(1));
        assert!(!test("[#1]O[CX4,c]").needs_hydrogen_atoms(3));
        let water = Molecule::from_smiles("O").unwrap();
        let explicit = View::with_hydrogen_atoms(&water);
        assert_eq!(explicit.atoms.len(), 3);
        assert!(Pattern::parse("[#1]O[!#6;!#7;!#8;!#16]")
            .unwrap()
            .matches_at(&explicit, 1));
        // Patterns that are not a hydrogen's.
        assert!(Pattern::parse("[CH3]")
            .unwrap()
            .for_counted_hydrogen()
            .is_none());
        assert!(Pattern::parse("[#1]=O")
            .unwrap()
            .for_counted_hydrogen()
            .is_none());
        // Hydrogen counts and connections are the same as with hydrogens as atoms.
        assert_eq!(Pattern::parse("[CH3]").unwrap().count_unique(&v), 1);
        assert_eq!(Pattern::parse("[CX4]").unwrap().count_unique(&v), 1);
    }

    #[test]
    fn first_atom_prefilter() {
        let could =
            |p: &str, z, aromatic, h| Pattern::parse(p).unwrap().first_could_match(z, aromatic, h);
        assert!(could("[CH3]C", 6, false, 3));
        assert!(!could("[CH3]C", 6, false, 2));
        assert!(!could("[CH3]C", 6, true, 3));
        assert!(could("[N,O;H1]", 8, false, 1) && !could("[N,O;H1]", 6, false, 1));
        assert!(could("[!#6;!#1]", 7, true, 0) && !could("[!#6;!#1]", 6, false, 0));
        // A recursive test or a degree leaves it open.
        assert!(could("[N,$(*=O)]", 6, false, 0));
        assert!(could("[CX4]", 6, false, 0));
    }

    #[test]
    fn valences_as_rdkit_reports_them() {
        let m = Molecule::from_smiles("c1cc[nH]c1").unwrap();
        assert_eq!(total_valence(&m, 3), 3);
        assert_eq!(total_valence(&m, 0), 4);
        let m = Molecule::from_smiles("c1ccsc1").unwrap();
        assert_eq!(total_valence(&m, 3), 2);
        let m = Molecule::from_smiles("CS(=O)(=O)C").unwrap();
        assert_eq!(total_valence(&m, 1), 6);
    }

    #[test]
    fn bad_patterns_are_errors_naming_the_place() {
        let e = Pattern::parse("[C").unwrap_err();
        assert_eq!(e.at, 2);
        assert!(Pattern::parse("C1CC1")
            .unwrap_err()
            .why
            .contains("ring closures"));
        assert!(Pattern::parse("[Q]").is_err());
        assert!(Pattern::parse("C(C").is_err());
    }
}
