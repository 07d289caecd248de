//! The simulated org's data: users, groups, builders and the demo org.

use sha2::{Digest, Sha256};

/// Statuses that allow a password reset (Okta answers 403 E0000038 for the others).
pub const RESETTABLE_STATUSES: [&str; 4] = ["ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"];

/// One Okta user as the simulator stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    pub id: String,
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT, RECOVERY, STAGED, PROVISIONED, SUSPENDED, DEPROVISIONED
    pub status: String,
    /// OKTA, IMPORT, ACTIVE_DIRECTORY, LDAP, FEDERATION, SOCIAL
    pub provider: String,
    /// Admin roles assigned to the user directly (`SUPER_ADMIN`, `HELP_DESK_ADMIN`, …): listed by
    /// `GET /api/v1/iam/assignees/users` and `GET /api/v1/users/{id}/roles`. Roles a user holds
    /// through a group are the group's (`SimGroup::roles`).
    pub roles: Vec<String>,
    /// `profile.department` (empty = absent).
    pub department: String,
}

impl SimUser {
    /// An OKTA-mastered ACTIVE user; id derived from the login, email = login.
    pub fn new(login: &str, first_name: &str, last_name: &str) -> SimUser {
        SimUser {
            id: okta_id("00u", &format!("user:{}", login.to_lowercase())),
            login: login.to_string(),
            email: login.to_string(),
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            status: "ACTIVE".to_string(),
            provider: "OKTA".to_string(),
            roles: Vec::new(),
            department: String::new(),
        }
    }
    pub fn with_id(mut self, id: &str) -> SimUser {
        self.id = id.to_string();
        self
    }
    pub fn status(mut self, status: &str) -> SimUser {
        self.status = status.to_string();
        self
    }
    pub fn provider(mut self, provider: &str) -> SimUser {
        self.provider = provider.to_string();
        self
    }
    pub fn email(mut self, email: &str) -> SimUser {
        self.email = email.to_string();
        self
    }
    pub fn department(mut self, department: &str) -> SimUser {
        self.department = department.to_string();
        self
    }
    /// A SUPER_ADMIN, assigned directly.
    pub fn admin(self) -> SimUser {
        self.role("SUPER_ADMIN")
    }
    /// An admin role assigned to the user directly.
    pub fn role(mut self, role: &str) -> SimUser {
        self.roles.push(role.to_string());
        self
    }
    /// Whether an admin role is assigned to the user directly.
    pub fn has_direct_role(&self) -> bool {
        !self.roles.is_empty()
    }
    /// Whether Okta would accept `lifecycle/reset_password` in this status.
    pub fn can_reset(&self) -> bool {
        RESETTABLE_STATUSES.contains(&self.status.as_str())
    }
}

/// One Okta group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimGroup {
    pub id: String,
    pub name: String,
    /// OKTA_GROUP or APP_GROUP
    pub kind: String,
    /// Member user ids.
    pub members: Vec<String>,
    /// Admin roles assigned to the group: every member holds them (`GET /api/v1/users/{id}/roles`
    /// lists them with `assignmentType: GROUP`).
    pub roles: Vec<String>,
}

impl SimGroup {
    /// An OKTA_GROUP with no members; id derived from the name.
    pub fn new(name: &str) -> SimGroup {
        SimGroup {
            id: okta_id("00g", &format!("group:{name}")),
            name: name.to_string(),
            kind: "OKTA_GROUP".to_string(),
            members: Vec::new(),
            roles: Vec::new(),
        }
    }
    /// An admin role assigned to the group.
    pub fn role(mut self, role: &str) -> SimGroup {
        self.roles.push(role.to_string());
        self
    }
    pub fn with_id(mut self, id: &str) -> SimGroup {
        self.id = id.to_string();
        self
    }
    pub fn kind(mut self, kind: &str) -> SimGroup {
        self.kind = kind.to_string();
        self
    }
    pub fn member(mut self, user_id: &str) -> SimGroup {
        self.members.push(user_id.to_string());
        self
    }
    pub fn members<I, S>(mut self, user_ids: I) -> SimGroup
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.members.extend(user_ids.into_iter().map(Into::into));
        self
    }
}

/// The whole simulated org. Build with `SimOrg::new().user(..).group(..)` or use [`SimOrg::demo`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimOrg {
    pub users: Vec<SimUser>,
    pub groups: Vec<SimGroup>,
}

impl SimOrg {
    pub fn new() -> SimOrg {
        SimOrg::default()
    }

    pub fn user(mut self, user: SimUser) -> SimOrg {
        self.users.push(user);
        self
    }

    /// Adds a group; a group whose id is already taken (same name and builder) gets a fresh id.
    pub fn group(mut self, mut group: SimGroup) -> SimOrg {
        let mut n = 1;
        while self.groups.iter().any(|g| g.id == group.id) {
            n += 1;
            group.id = okta_id("00g", &format!("group:{}#{n}", group.name));
        }
        self.groups.push(group);
        self
    }

    pub fn find_user_by_login(&self, login: &str) -> Option<&SimUser> {
        self.users
            .iter()
            .find(|u| u.login.eq_ignore_ascii_case(login))
    }

    pub fn groups_named(&self, name: &str) -> Vec<&SimGroup> {
        self.groups
            .iter()
            .filter(|g| g.name.to_lowercase() == name.to_lowercase())
            .collect()
    }

    /// Adds a group named `name` with `n` generated OKTA ACTIVE members.
    pub fn with_generated_group(mut self, name: &str, n: usize) -> SimOrg {
        let slug: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let slug = if slug.is_empty() {
            "gen".to_string()
        } else {
            slug
        };
        let salt = self.users.len();
        let mut group = SimGroup::new(name);
        group.members.reserve_exact(n);
        self.users.reserve(n);
        for i in 0..n {
            let login = format!("{slug}{i:06}@bench.example.com");
            let user = SimUser {
                id: okta_id("00u", &format!("gen:{salt}:{login}")),
                email: login.clone(),
                login,
                first_name: format!("Gen{i}"),
                last_name: slug.clone(),
                status: "ACTIVE".to_string(),
                provider: "OKTA".to_string(),
                roles: Vec::new(),
                department: String::new(),
            };
            group.members.push(user.id.clone());
            self.users.push(user);
        }
        self.group(group)
    }

    /// The demo org (see the module docs of `sim::okta`).
    pub fn demo() -> SimOrg {
        let mut org = SimOrg::new();
        let mut contractors =
            SimGroup::new("contractors").with_id(&okta_id("00g", "demo:contractors"));
        for (i, (first, last, slug, status, provider)) in DEMO_CONTRACTORS.iter().enumerate() {
            let login = format!("c{:02}.{slug}@contractors.example.com", i + 1);
            let user = SimUser::new(&login, first, last)
                .status(status)
                .provider(provider);
            contractors.members.push(user.id.clone());
            org = org.user(user);
        }
        let mut admins = SimGroup::new("it-admins").with_id(&okta_id("00g", "demo:it-admins"));
        for (first, last) in [
            ("Alice", "Admin"),
            ("Bob", "Builder"),
            ("Carol", "Checker"),
            ("Mallory", "Mallet"),
        ] {
            let login = format!("{}@example.com", first.to_lowercase());
            let user = SimUser::new(&login, first, last).admin();
            admins.members.push(user.id.clone());
            org = org.user(user);
        }
        let mut sales = SimGroup::new("Sales & <Marketing>").with_id(&okta_id("00g", "demo:sales"));
        for (first, last) in [("Sam", "Seller"), ("Maria", "Marketer"), ("Pat", "Pitch")] {
            let login = format!(
                "{}.{}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            );
            let user = SimUser::new(&login, first, last).department("Sales");
            sales.members.push(user.id.clone());
            org = org.user(user);
        }
        let eng_okta = SimGroup::new("Engineering")
            .with_id(&okta_id("00g", "demo:engineering:okta"))
            .members(contractors.members[..3].to_vec())
            .member(&admins.members[0]);
        let eng_ad = SimGroup::new("Engineering")
            .with_id(&okta_id("00g", "demo:engineering:ad"))
            .kind("APP_GROUP")
            .members(contractors.members[20..23].to_vec());
        org.group(contractors)
            .group(admins)
            .group(eng_okta)
            .group(eng_ad)
            .group(sales)
    }
}

/// (firstName, lastName, login slug, status, provider) of the 40 demo contractors.
const DEMO_CONTRACTORS: [(&str, &str, &str, &str, &str); 40] = [
    ("Dana", "Lee", "lee", "ACTIVE", "OKTA"),
    ("Eli", "Moss", "moss", "ACTIVE", "OKTA"),
    ("Fay", "Nash", "nash", "ACTIVE", "OKTA"),
    ("Gus", "Ortiz", "ortiz", "ACTIVE", "OKTA"),
    ("Hana", "Park", "park", "ACTIVE", "OKTA"),
    ("Ivan", "Quinn", "quinn", "ACTIVE", "OKTA"),
    ("<!channel>", "Reyes", "reyes", "ACTIVE", "OKTA"),
    ("Jo", "O'Brien & <@U0002>", "obrien", "ACTIVE", "OKTA"),
    ("Kai", "Shah", "shah", "ACTIVE", "OKTA"),
    ("Lena", "Tran", "tran", "ACTIVE", "OKTA"),
    ("Milo", "Ueda", "ueda", "ACTIVE", "OKTA"),
    ("Nia", "Vance", "vance", "ACTIVE", "OKTA"),
    ("Omar", "Wolfe", "wolfe", "ACTIVE", "OKTA"),
    ("Pia", "Xu", "xu", "ACTIVE", "OKTA"),
    ("Quin", "Young", "young", "ACTIVE", "OKTA"),
    ("Rita", "Zhao", "zhao", "ACTIVE", "OKTA"),
    ("Sol", "Abbott", "abbott", "ACTIVE", "OKTA"),
    ("Tess", "Baker", "baker", "ACTIVE", "OKTA"),
    ("Uma", "Cruz", "cruz", "ACTIVE", "OKTA"),
    ("Vik", "Diaz", "diaz", "ACTIVE", "OKTA"),
    ("Wes", "Evans", "evans", "ACTIVE", "OKTA"),
    ("Xia", "Ford", "ford", "ACTIVE", "OKTA"),
    ("Yara", "Gray", "gray", "ACTIVE", "IMPORT"),
    ("Zed", "Hall", "hall", "ACTIVE", "IMPORT"),
    ("Ada", "Ibsen", "ibsen", "PASSWORD_EXPIRED", "OKTA"),
    ("Ben", "Jones", "jones", "PASSWORD_EXPIRED", "OKTA"),
    ("Cleo", "King", "king", "LOCKED_OUT", "OKTA"),
    ("Dev", "Lopez", "lopez", "RECOVERY", "OKTA"),
    ("Eva", "Mills", "mills", "ACTIVE", "ACTIVE_DIRECTORY"),
    ("Finn", "Novak", "novak", "ACTIVE", "ACTIVE_DIRECTORY"),
    ("Gia", "Owens", "owens", "ACTIVE", "ACTIVE_DIRECTORY"),
    ("Hugo", "Perez", "perez", "ACTIVE", "LDAP"),
    ("Iris", "Ramos", "ramos", "ACTIVE", "FEDERATION"),
    ("Jack", "Stone", "stone", "ACTIVE", "FEDERATION"),
    ("Kim", "Tate", "tate", "ACTIVE", "SOCIAL"),
    ("Leo", "Usher", "usher", "SUSPENDED", "OKTA"),
    ("Mia", "Voss", "voss", "SUSPENDED", "OKTA"),
    ("Ned", "Webb", "webb", "STAGED", "OKTA"),
    ("Ola", "York", "york", "PROVISIONED", "OKTA"),
    ("Pete", "Zane", "zane", "DEPROVISIONED", "OKTA"),
];

const ID_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A deterministic 20-character Okta-looking id: `prefix` + 17 base-62 chars of SHA-256(label).
pub fn okta_id(prefix: &str, label: &str) -> String {
    let digest = Sha256::digest(label.as_bytes());
    let mut id = String::with_capacity(20);
    id.push_str(prefix);
    for b in digest.iter().take(20 - prefix.len().min(20)) {
        id.push(ID_ALPHABET[(*b as usize) % ID_ALPHABET.len()] as char);
    }
    id
}
