//! Simulated Okta org (see module docs in the files below).
