//! Simulated Slack workspace (see module docs in the files below).
