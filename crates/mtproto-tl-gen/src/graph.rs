//! Analyses over the definitions: duplicate ids, and the graph of inline
//! containment between constructors and types.
//!
//! - [`dedup_ids`] picks one definition per id before anything else.
//! - [`Analysis::boxed`]: the fields that close a cycle of inline
//!   containment (a field and its target in the same strongly connected
//!   component, see [`scc`]) are boxed, so every type has a finite size;
//!   the constructors with such a field are the recursive ones, which count
//!   a level of nesting depth when decoding.
//! - Placeholders, found by a fixpoint: a type has a placeholder value when
//!   one of its constructors has only fields that do (unboxed, not
//!   generic); such types and definitions decode in place.

use std::collections::{HashMap, HashSet};

use mtproto_tl_parser::{Category, Definition, ParamType};

use crate::model::Model;

/// Enums with at most this many constructors decode `#[inline(always)]`
/// (and, with a placeholder, in place into a struct's field).
pub(crate) const SMALL_ENUM: usize = 32;

/// What the graph analyses found.
pub(crate) struct Analysis<'s, 'a> {
    /// Fields to box, by (definition name, param index).
    pub(crate) boxed: HashSet<(&'a str, usize)>,
    /// Constructors and functions with a placeholder value (no `Box`
    /// needed to build one): they decode in place.
    pub(crate) ph_defs: HashSet<&'a str>,
    /// Type full name -> the constructor its placeholder uses.
    pub(crate) ph_variant: HashMap<&'a str, &'s Definition<'a>>,
    /// Paths of the enums decoded in place into a field: those with a
    /// placeholder whose decoder is always inlined (see [`SMALL_ENUM`]).
    pub(crate) inplace_enums: HashSet<String>,
}

impl<'s, 'a> Analysis<'s, 'a> {
    /// Runs the analyses on `model`.
    pub(crate) fn new(model: &Model<'s, 'a>) -> Self {
        let mut an = Analysis {
            boxed: find_boxed(model),
            ph_defs: HashSet::new(),
            ph_variant: HashMap::new(),
            inplace_enums: HashSet::new(),
        };
        an.find_placeholders(model);
        an
    }

    /// Whether `d` has a field in its own cycle of containment (a boxed
    /// field): a recursive constructor.
    pub(crate) fn is_recursive(&self, d: &Definition<'a>) -> bool {
        (0..d.params.len()).any(|pi| self.boxed.contains(&(d.name, pi)))
    }

    /// Whether every stored field of `d` can hold a placeholder, given the
    /// types known so far to have one.
    fn fields_have_placeholder(
        &self,
        model: &Model<'s, 'a>,
        d: &Definition<'a>,
        types: &HashSet<&'a str>,
    ) -> bool {
        let generics: Vec<&str> = d.type_params.iter().map(|t| t.name).collect();
        d.params.iter().enumerate().all(|(pi, p)| {
            let ParamType::Normal { ty, flag } = &p.ty else {
                return true; // a flags word: not stored
            };
            if flag.is_some() {
                return true; // Option or bool
            }
            if self.boxed.contains(&(d.name, pi)) || ty.generic_ref || generics.contains(&ty.name) {
                return false;
            }
            match model.inline_target(ty) {
                // A constructor used bare, or a boxed type.
                Some(t) if model.targets_enum(t, ty) => types.contains(t),
                Some(c) => model
                    .kept
                    .iter()
                    .find(|k| k.name == c)
                    .is_some_and(|k| self.fields_have_placeholder(model, k, types)),
                // Numbers, strings, bytes, Bool, Object, vectors.
                None => true,
            }
        })
    }

    /// Finds which types and definitions have a placeholder value. Only
    /// unboxed fields are followed, and boxing breaks every cycle of inline
    /// containment, so the placeholders never refer to themselves.
    fn find_placeholders(&mut self, model: &Model<'s, 'a>) {
        let mut types: HashSet<&'a str> = HashSet::new();
        loop {
            let before = types.len();
            for (t, ctors) in &model.type_ctors {
                if !types.contains(t)
                    && ctors
                        .iter()
                        .any(|c| self.fields_have_placeholder(model, c, &types))
                {
                    types.insert(t);
                }
            }
            if types.len() == before {
                break;
            }
        }
        for d in &model.kept {
            if self.fields_have_placeholder(model, d, &types) {
                self.ph_defs.insert(d.name);
            }
        }
        // A variant without data if there is one, else the first by name.
        for (t, ctors) in &model.type_ctors {
            let mut cands: Vec<&'s Definition<'a>> = ctors
                .iter()
                .copied()
                .filter(|c| self.ph_defs.contains(c.name))
                .collect();
            cands.sort_by_key(|c| (!c.params.is_empty(), c.name));
            if let Some(c) = cands.first() {
                self.ph_variant.insert(t, c);
                if ctors.len() <= SMALL_ENUM {
                    if let Some(p) = model.enum_path.get(t) {
                        self.inplace_enums.insert(p.clone());
                    }
                }
            }
        }
    }
}

/// The graph of inline containment: nodes are constructors (`c:name`) and
/// types (`t:Name`); a constructor points at what its fields hold inline, a
/// type at its constructors.
#[derive(Default)]
struct Graph {
    /// Node name -> index.
    index: HashMap<String, usize>,
    /// Outgoing edges of every node.
    edges: Vec<Vec<usize>>,
}

impl Graph {
    /// The index of node `name`, added if new.
    fn node(&mut self, name: String) -> usize {
        if let Some(&i) = self.index.get(&name) {
            return i;
        }
        let i = self.edges.len();
        self.index.insert(name, i);
        self.edges.push(Vec::new());
        i
    }

    /// Adds the edge `from -> to`.
    fn edge(&mut self, from: usize, to: usize) {
        if let Some(e) = self.edges.get_mut(from) {
            e.push(to);
        }
    }
}

/// The struct fields whose target is in the same strongly connected
/// component as the struct: boxing them breaks every cycle of inline
/// containment, so every type has a finite size.
fn find_boxed<'a>(model: &Model<'_, 'a>) -> HashSet<(&'a str, usize)> {
    // Node names: constructor names and type names never collide in case
    // (constructors start lower case, types upper case), but to be safe
    // prefix them.
    let mut g = Graph::default();
    let mut field_edges: Vec<(&'a str, usize, usize, usize)> = Vec::new();
    for d in &model.kept {
        if d.category != Category::Constructor {
            continue;
        }
        let s = g.node(format!("c:{}", d.name));
        for (pi, p) in d.params.iter().enumerate() {
            let ParamType::Normal { ty, .. } = &p.ty else {
                continue;
            };
            if let Some(t) = model.inline_target(ty) {
                let key = if model.targets_enum(t, ty) {
                    format!("t:{t}")
                } else {
                    format!("c:{t}")
                };
                let ti = g.node(key);
                g.edge(s, ti);
                field_edges.push((d.name, pi, s, ti));
            }
        }
    }
    for (t, ctors) in &model.type_ctors {
        let ti = g.node(format!("t:{t}"));
        for c in ctors {
            let ci = g.node(format!("c:{}", c.name));
            g.edge(ti, ci);
        }
    }
    let comp = scc(&g.edges);
    field_edges
        .into_iter()
        .filter(|&(_, _, s, t)| comp.get(s) == comp.get(t))
        .map(|(name, pi, _, _)| (name, pi))
        .collect()
}

/// Among definitions sharing an id, keeps the one whose written id equals
/// the CRC32 of its normalized line (the real definition; tdlib's `api.tl`
/// declares `invokeWith*Prefix` pseudo-constructors with the ids of the real
/// `invokeWith*` methods before them); if none or several match, keeps the
/// first. Returns the kept definitions in schema order and a message per
/// skipped one.
pub(crate) fn dedup_ids<'s, 'a>(
    defs: &[&'s Definition<'a>],
) -> (Vec<&'s Definition<'a>>, Vec<String>) {
    let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, d) in defs.iter().enumerate() {
        groups.entry(d.id).or_default().push(i);
    }
    let mut winner: HashMap<u32, usize> = HashMap::new();
    for (id, members) in &groups {
        let matching: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| defs.get(i).is_some_and(|d| d.computed_id() == d.id))
            .collect();
        let w = match matching.as_slice() {
            [one] => *one,
            _ => members.first().copied().unwrap_or_default(),
        };
        winner.insert(*id, w);
    }
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        match winner.get(&d.id).and_then(|&w| defs.get(w).map(|k| (w, k))) {
            Some((w, k)) if w != i => skipped.push(format!(
                "{} (line {}) has the id #{:08x} of {} (line {}); skipped",
                d.name, d.line, d.id, k.name, k.line
            )),
            _ => kept.push(*d),
        }
    }
    (kept, skipped)
}

/// Strongly connected components (Tarjan, iterative); returns the component
/// index of every node.
fn scc(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![usize::MAX; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next_index = 0usize;
    let mut next_comp = 0usize;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge position)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*ei) {
                *ei += 1;
                if index[w] == usize::MAX {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(u, _)) = work.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
    }
    comp
}

#[cfg(test)]
mod tests {
    use super::scc;

    #[test]
    fn scc_groups_cycles() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 3, 4 alone.
        let comp = scc(&[vec![1], vec![2], vec![0, 3], vec![3], vec![]]);
        assert_eq!(comp[0], comp[1]);
        assert_eq!(comp[1], comp[2]);
        assert_ne!(comp[2], comp[3]);
        assert_ne!(comp[3], comp[4]);
        assert_ne!(comp[0], comp[4]);
    }
}
