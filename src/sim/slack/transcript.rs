//! Renders a channel as people would read it in the demo:
//!
//! ```text
//! Reset 3 users in group Sales? Requested by <@U0001>
//! [Approve] [Deny]
//! (edited 1 times)
//!   ↳ Approved by <@U0002>
//!   ↳ [only visible to bob] You cannot approve your own request
//! [only visible to alice] Usage: /okta-reset group NAME
//! ```
//!
//! Roots and root-level ephemerals appear in posting order; each root is followed by its thread
//! (replies and thread ephemerals, in posting order), indented with `  ↳ `. Block Kit is flattened
//! to text; Slack's escaped entities (`&lt;` …) are left as they are, to show what was escaped.
//! The bot's own markup is shown the way Slack displays it: `<@U0001>` as `@alice`, `<#C0001>`
//! as `#C0001`, `<!date^…|fallback>` as its fallback, `<https://…|label>` as
//! `label [https://…]`. Escaped text cannot match these (its `<` is `&lt;`), so humanizing never
//! hides an escaping failure. Files shared into a thread show as `📎 name (N lines)`.

use serde_json::Value;

use super::record::{Posted, SimEphemeral, SimMessage, State};

pub(crate) fn render(s: &State, channel: &str) -> String {
    humanize(s, &render_raw(s, channel))
}

fn render_raw(s: &State, channel: &str) -> String {
    let mut out = String::new();
    for (i, p) in s.order.iter().enumerate() {
        match *p {
            Posted::Message(m) => {
                let msg = &s.messages[m];
                if msg.channel != channel || msg.thread_ts.is_some() {
                    continue;
                }
                push_lines(&mut out, "", "", &message_text(msg));
                if !msg.edits.is_empty() {
                    out.push_str(&format!("(edited {} times)\n", msg.edits.len()));
                }
                render_thread(s, channel, &msg.ts, i, &mut out);
            }
            Posted::Ephemeral(e) => {
                let eph = &s.ephemerals[e];
                if eph.channel == channel && eph.thread_ts.is_none() {
                    push_lines(&mut out, "", "", &ephemeral_text(s, eph));
                }
            }
        }
    }
    out
}

/// Replies and ephemerals in the thread `root_ts`, posted after the root (at `root_pos`).
fn render_thread(s: &State, channel: &str, root_ts: &str, root_pos: usize, out: &mut String) {
    for p in &s.order[root_pos + 1..] {
        let text = match *p {
            Posted::Message(m) => {
                let msg = &s.messages[m];
                if msg.channel != channel || msg.thread_ts.as_deref() != Some(root_ts) {
                    continue;
                }
                let mut t = message_text(msg);
                for f in s
                    .uploads
                    .files
                    .iter()
                    .filter(|f| f.message_ts.as_ref() == Some(&msg.ts))
                {
                    t.push_str(&format!(
                        "\n📎 {} ({} lines)",
                        f.filename,
                        f.text().lines().count()
                    ));
                }
                if !msg.edits.is_empty() {
                    t.push_str(&format!("\n(edited {} times)", msg.edits.len()));
                }
                t
            }
            Posted::Ephemeral(e) => {
                let eph = &s.ephemerals[e];
                if eph.channel != channel || eph.thread_ts.as_deref() != Some(root_ts) {
                    continue;
                }
                ephemeral_text(s, eph)
            }
        };
        push_lines(out, "  ↳ ", "    ", &text);
    }
}

fn push_lines(out: &mut String, first: &str, rest: &str, text: &str) {
    for (i, line) in text.lines().enumerate() {
        out.push_str(if i == 0 { first } else { rest });
        out.push_str(line);
        out.push('\n');
    }
    if text.is_empty() {
        out.push_str(first);
        out.push('\n');
    }
}

fn message_text(m: &SimMessage) -> String {
    render_blocks(&m.blocks).unwrap_or_else(|| m.text.clone())
}

fn ephemeral_text(s: &State, e: &SimEphemeral) -> String {
    let who = s.user(&e.user).map_or(e.user.as_str(), |u| u.name.as_str());
    let body = render_blocks(&e.blocks).unwrap_or_else(|| e.text.clone());
    format!("[only visible to {who}] {body}")
}

/// Block Kit flattened to lines; `None` when there are no blocks.
pub fn render_blocks(blocks: &Value) -> Option<String> {
    let blocks = blocks.as_array().filter(|b| !b.is_empty())?;
    let lines: Vec<String> = blocks.iter().filter_map(render_block).collect();
    Some(lines.join("\n"))
}

fn text_of(v: &Value) -> Option<String> {
    v.get("text").and_then(Value::as_str).map(str::to_string)
}

fn render_block(b: &Value) -> Option<String> {
    let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "section" => {
            let mut parts: Vec<String> = b.get("text").and_then(text_of).into_iter().collect();
            if let Some(fields) = b.get("fields").and_then(Value::as_array) {
                parts.extend(fields.iter().filter_map(text_of));
            }
            if let Some(acc) = b.get("accessory") {
                parts.push(element(acc));
            }
            Some(parts.join("\n"))
        }
        "header" => b.get("text").and_then(text_of),
        "context" => {
            let els = b.get("elements").and_then(Value::as_array)?;
            let parts: Vec<String> = els
                .iter()
                .map(|e| {
                    text_of(e)
                        .or_else(|| e.get("alt_text").and_then(Value::as_str).map(Into::into))
                        .unwrap_or_default()
                })
                .filter(|t| !t.is_empty())
                .collect();
            Some(parts.join(" · "))
        }
        "divider" => Some("────────".to_string()),
        "actions" => {
            let els = b.get("elements").and_then(Value::as_array)?;
            Some(els.iter().map(element).collect::<Vec<_>>().join(" "))
        }
        "" => None,
        other => Some(format!("[{other}]")),
    }
}

/// An interactive element: a button's label as `[Label]`, anything else as `[type]`.
fn element(e: &Value) -> String {
    let label = e
        .get("text")
        .and_then(text_of)
        .unwrap_or_else(|| e.get("type").and_then(Value::as_str).unwrap_or("?").into());
    format!("[{label}]")
}

/// Shows Slack markup the way Slack displays it (see the module docs).
fn humanize(s: &State, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let shown = if let Some(id) = inner.strip_prefix('@') {
            let name = s
                .config
                .users
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.name.as_str())
                .unwrap_or(id);
            format!("@{name}")
        } else if let Some(id) = inner.strip_prefix('#') {
            format!("#{}", id.split('|').next().unwrap_or(id))
        } else if inner.starts_with("!date^") {
            inner.rsplit('|').next().unwrap_or(inner).to_string()
        } else if let Some((url, label)) = inner
            .split_once('|')
            .filter(|(u, _)| u.starts_with("https://") || u.starts_with("http://"))
        {
            // A link shows its label; the address follows so a reader can see where it goes.
            format!("{label} [{}]", url.replace("&amp;", "&"))
        } else {
            format!("<{inner}>")
        };
        out.push_str(&shown);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_kit_flattens_to_readable_lines() {
        let blocks = json!([
            {"type": "header", "text": {"type": "plain_text", "text": "Password reset"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "Group *Sales &amp; Ops*"},
             "fields": [{"type": "mrkdwn", "text": "3 users"}, {"type": "mrkdwn", "text": "by &lt;!channel&gt;"}]},
            {"type": "divider"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "job 42"}, {"type": "plain_text", "text": "T0001"}]},
            {"type": "actions", "block_id": "decision", "elements": [
                {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"}},
                {"type": "button", "action_id": "deny", "text": {"type": "plain_text", "text": "Deny"}}]},
            {"type": "image", "image_url": "x", "alt_text": "y"}
        ]);
        assert_eq!(
            render_blocks(&blocks).unwrap(),
            "Password reset\nGroup *Sales &amp; Ops*\n3 users\nby &lt;!channel&gt;\n────────\n\
             job 42 · T0001\n[Approve] [Deny]\n[image]"
        );
        assert_eq!(render_blocks(&Value::Null), None);
        let s = State::new(super::super::SlackSimConfig::demo());
        assert_eq!(
            humanize(
                &s,
                "<https://a.example/x?b=1&amp;c=2|Log> &lt;https://evil|x&gt;"
            ),
            "Log [https://a.example/x?b=1&c=2] &lt;https://evil|x&gt;"
        );
        assert_eq!(render_blocks(&json!([])), None);
    }
}
