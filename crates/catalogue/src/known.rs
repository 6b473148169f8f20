//! The entity types other crates give rules of their own, as a typed id: their names are
//! resolved against the table once, here, so no other crate compares entity names.

use crate::{by_id, entity_id, Entity, EntityId, ENTITIES};
use std::sync::OnceLock;

macro_rules! known {
    ($($variant:ident),* $(,)?) => {
        /// An entity type that code outside the catalogue treats specially.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Known {
            $($variant),*
        }

        impl Known {
            /// Every known type, in declaration order.
            pub const ALL: &'static [Known] = &[$(Known::$variant),*];

            /// The type's name in the table (the variant's name).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Known::$variant => stringify!($variant)),*
                }
            }
        }
    };
}

known!(
    User,
    ChildAccount,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactAddress,
    UserCompany,
    ProfileQuestion,
    ProfileAnswer,
    PackageService,
    UserService,
    UserServiceProfileAnswer,
    UserPackageAttributeDiscount,
    UserAttributeExpiryDate,
    Debit,
    Credit,
    CloseInvoice,
    Payment,
    Ticket,
    TicketAttachment,
    UserPaymentMethod,
    UserPaymentMethodCash,
    UserPaymentMethodCheck,
    UserPaymentMethodCreditCard,
    UserPaymentMethodACH,
    LegacyProgram,
    LegacyComponent,
    LegacyProgramComponent,
    LegacyRegistration,
);

/// Entity id → known type, built once from the table.
fn table() -> &'static [Option<Known>] {
    static TABLE: OnceLock<Vec<Option<Known>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = vec![None; ENTITIES.len()];
        for k in Known::ALL {
            if let Some(id) = entity_id(k.name()) {
                t[id as usize] = Some(*k);
            }
        }
        t
    })
}

impl Known {
    /// The known type of entity `id`, if it is one.
    pub fn of(id: EntityId) -> Option<Known> {
        table().get(id as usize).copied().flatten()
    }

    /// The known type a name in the table stands for (a reference's target, a journal row's
    /// entity), if it is one.
    pub fn named(name: &str) -> Option<Known> {
        entity_id(name).and_then(Known::of)
    }

    /// Its id in the table (every known type is in it: a test checks).
    pub fn id(self) -> EntityId {
        entity_id(self.name()).expect("a known entity type is in the table")
    }

    /// Its entity type.
    pub fn entity(self) -> &'static Entity {
        by_id(self.id())
    }

    /// Whether a reference's target (an entity name) is this type.
    pub fn is_named(self, name: &str) -> bool {
        self.name() == name
    }
}

impl Entity {
    /// The known type of this entity, if it is one.
    pub fn known(&self) -> Option<Known> {
        Known::of(self.id())
    }

    /// Whether this entity is the known type `k`.
    pub fn is(&self, k: Known) -> bool {
        self.known() == Some(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_is_in_the_table() {
        for k in Known::ALL {
            assert_eq!(k.entity().known(), Some(*k), "{}", k.name());
            assert_eq!(Known::named(k.name()), Some(*k));
        }
    }
}
