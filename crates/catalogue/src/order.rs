//! Dependency order of entity types (SPEC §5), derived from the references in the catalogue.

use crate::{entity_id, EntityId, ENTITIES};

/// One step of a run: an entity type, or the ledger stream (all ledger types in source order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Entity(EntityId),
    Ledger,
}

impl Phase {
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Entity(id) => ENTITIES[*id as usize].name,
            Phase::Ledger => crate::LEDGER_SHEET,
        }
    }
    /// The entity types processed in this phase.
    pub fn entities(&self) -> Vec<EntityId> {
        match self {
            Phase::Entity(id) => vec![*id],
            Phase::Ledger => ENTITIES
                .iter()
                .enumerate()
                .filter(|(_, e)| e.is_ledger())
                .map(|(i, _)| i as EntityId)
                .collect(),
        }
    }
}

/// The node an entity type belongs to: ledger types share one node.
fn node(id: usize) -> usize {
    if ENTITIES[id].is_ledger() {
        ENTITIES
            .iter()
            .position(|e| e.is_ledger())
            .expect("ledger types exist")
    } else {
        id
    }
}

/// Topological order of the catalogue's entity types; ties go to the earlier entry of SPEC §4.
/// Self-references (ProfileQuestion.Parent) are resolved within a phase and ignored here.
pub fn dependency_order() -> Vec<Phase> {
    let n = ENTITIES.len();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, e) in ENTITIES.iter().enumerate() {
        let me = node(i);
        let targets = e
            .refs
            .iter()
            .map(|r| r.target)
            .chain(e.after.iter().copied());
        for t in targets {
            let t = node(entity_id(t).expect("catalogue is consistent") as usize);
            if t != me && !deps[me].contains(&t) {
                deps[me].push(t);
            }
        }
    }
    let nodes: Vec<usize> = (0..n).filter(|&i| node(i) == i).collect();
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(nodes.len());
    while out.len() < nodes.len() {
        let next = nodes
            .iter()
            .copied()
            .find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]))
            .expect("the catalogue's references have no cycle");
        done[next] = true;
        out.push(if ENTITIES[next].is_ledger() {
            Phase::Ledger
        } else {
            Phase::Entity(next as EntityId)
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(order: &[Phase], name: &str) -> usize {
        order
            .iter()
            .position(|p| p.name() == name)
            .unwrap_or_else(|| panic!("{name} not in order"))
    }

    #[test]
    fn references_come_first() {
        let order = dependency_order();
        for (i, e) in ENTITIES.iter().enumerate() {
            let me = if e.is_ledger() {
                pos(&order, "Ledger")
            } else {
                pos(&order, e.name)
            };
            for r in e.refs {
                if r.target == e.name {
                    continue;
                }
                let t = crate::entity(r.target).unwrap();
                let tp = if t.is_ledger() {
                    pos(&order, "Ledger")
                } else {
                    pos(&order, t.name)
                };
                assert!(tp < me, "{} ({i}) must come after {}", e.name, r.target);
            }
        }
    }

    #[test]
    fn spec_constraints() {
        let order = dependency_order();
        let ledger = pos(&order, "Ledger");
        assert!(pos(&order, "ChildAccount") < ledger);
        // SPEC §7: attribute records are applied before the ledger.
        for e in ENTITIES
            .iter()
            .filter(|e| e.name.starts_with("UserAttribute"))
        {
            assert!(pos(&order, e.name) < ledger, "{} after the ledger", e.name);
        }
        for c in [
            "Contact",
            "ContactEmail",
            "ContactPhone",
            "ContactFax",
            "ContactPoint",
            "ContactAddress",
        ] {
            assert!(pos(&order, c) < pos(&order, "UserCompany"));
        }
        assert!(pos(&order, "Currency") < pos(&order, "Owner"));
        assert!(pos(&order, "User") < pos(&order, "Contact"));
        // every type appears exactly once (ledger types through the Ledger phase)
        let count: usize = order.iter().map(|p| p.entities().len()).sum();
        assert_eq!(count, ENTITIES.len());
    }
}
