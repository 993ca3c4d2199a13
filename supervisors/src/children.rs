//! A supervisor's children in start order: which child a running actor is, and which children
//! a rest-for-one restart takes down with a failed one.

use std::collections::{BTreeMap, HashMap};

use ractor::{ActorCell, ActorId};

use crate::policy::RestartHistory;
use crate::spec::ChildSpec;

/// One child's bookkeeping.
pub(crate) struct Child {
    pub spec: ChildSpec,
    /// The running incarnation, if any.
    pub cell: Option<ActorCell>,
    /// Its own recent restarts: they set its backoff (the budget is the supervisor's).
    pub history: RestartHistory,
    /// Bumped on every failure so a stale `Restart` timer cannot start a second incarnation.
    pub generation: u64,
    /// Stopped by a rest-for-one restart of an earlier child: started again right after it.
    pub follows_restart: bool,
}

/// The children, kept in the order they were added (the order a rest-for-one restart follows).
#[derive(Default)]
pub(crate) struct Children {
    by_order: BTreeMap<u64, Child>,
    order_of: HashMap<String, u64>,
    /// Which child a running actor is, to route supervision events. An actor not here (one the
    /// supervisor stopped itself) is ignored when it ends.
    by_actor: HashMap<ActorId, String>,
    next_order: u64,
}

impl Children {
    pub fn contains(&self, id: &str) -> bool {
        self.order_of.contains_key(id)
    }

    /// Adds a started child.
    pub fn add(&mut self, spec: ChildSpec, cell: ActorCell) {
        let order = self.next_order;
        self.next_order += 1;
        self.by_actor.insert(cell.get_id(), spec.id.clone());
        self.order_of.insert(spec.id.clone(), order);
        let child = Child {
            spec,
            cell: Some(cell),
            history: RestartHistory::default(),
            generation: 0,
            follows_restart: false,
        };
        self.by_order.insert(order, child);
    }

    pub fn get(&self, id: &str) -> Option<&Child> {
        self.by_order.get(self.order_of.get(id)?)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Child> {
        self.by_order.get_mut(self.order_of.get(id)?)
    }

    /// Removes a child for good, with its running incarnation (no longer watched).
    pub fn remove(&mut self, id: &str) -> Option<Child> {
        let order = self.order_of.remove(id)?;
        let child = self.by_order.remove(&order)?;
        if let Some(cell) = &child.cell {
            self.by_actor.remove(&cell.get_id());
        }
        Some(child)
    }

    /// The child a running actor is, no longer watched: it has ended.
    pub fn ended(&mut self, actor: &ActorId) -> Option<&mut Child> {
        let id = self.by_actor.remove(actor)?;
        let child = self.get_mut(&id)?;
        child.cell = None;
        Some(child)
    }

    /// Records the new incarnation of child `id`.
    pub fn started(&mut self, id: &str, cell: ActorCell) {
        self.by_actor.insert(cell.get_id(), id.to_owned());
        if let Some(child) = self.get_mut(id) {
            child.cell = Some(cell);
        }
    }

    /// The running children started after `id`, latest first (the order to stop them in), no
    /// longer watched: each is marked to follow `id`'s restart.
    pub fn take_later(&mut self, id: &str) -> Vec<(String, ActorCell)> {
        let Some(&from) = self.order_of.get(id) else {
            return Vec::new();
        };
        let mut taken = Vec::new();
        for child in self.by_order.range_mut(from + 1..).rev().map(|(_, c)| c) {
            if let Some(cell) = child.cell.take() {
                self.by_actor.remove(&cell.get_id());
                child.follows_restart = true;
                child.generation += 1;
                taken.push((child.spec.id.clone(), cell));
            }
        }
        taken
    }

    /// The children waiting to follow a restart, in start order (each is no longer waiting).
    pub fn take_followers(&mut self) -> Vec<ChildSpec> {
        let waiting = self.by_order.values_mut().filter(|c| c.follows_restart);
        waiting
            .map(|c| {
                c.follows_restart = false;
                c.spec.clone()
            })
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Child> {
        self.by_order.values()
    }
}
