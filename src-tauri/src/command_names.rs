//! Every command the shell exposes, by name: the build script turns each
//! into an `allow-NAME` permission, and `capabilities/main.json` grants them.

/// The commands' names, as the UI invokes them.
pub const COMMANDS: &[&str] = &[
    "status",
    "create_identity",
    "device_join",
    "device_join_confirm",
    "link_answer",
    "recover",
    "restore",
    "phrase",
    "open_link",
    "notify_system",
    "set_badge",
    "import_bundle_file",
    "opened_links",
    "bookmark",
    "unbookmark",
    "bookmark_ids",
    "bookmarks",
    "ticket",
    "timeline",
    "author_posts",
    "thread",
    "search",
    "notifications",
    "post",
    "like",
    "repost",
    "unlike",
    "unrepost",
    "edit",
    "delete",
    "profile",
    "profile_named",
    "trending_tags",
    "suggestions",
    "show_follows",
    "set_show_follows",
    "author_media",
    "set_profile",
    "following",
    "follow",
    "scan_image",
    "unfollow",
    "mute",
    "unmute",
    "block",
    "unblock",
    "groups",
    "group",
    "group_create",
    "group_invite",
    "group_join",
    "group_timeline",
    "group_remove",
    "group_leave",
    "conversations",
    "messages",
    "dm",
    "devices",
    "device_link",
    "device_revoke",
    "settings",
    "set_settings",
    "export_bundle",
    "import_bundle",
    "storage",
    "set_budgets",
    "check_storage",
    "vacuum",
    "drop_feed",
    "peers",
    "net_status",
    "sync_now",
    "first_paint",
];

#[cfg(test)]
mod tests {
    use super::COMMANDS;

    /// The permissions a capability file grants.
    fn granted(path: &str) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let json: serde_json::Value = serde_json::from_str(&text).expect("capability JSON");
        json["permissions"]
            .as_array()
            .expect("a permissions list")
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect()
    }

    /// Every command is granted to the desktop window and to the phone's
    /// (a command added to one and not the other fails only on that
    /// platform, at run time), and nothing else of Starling's is.
    #[test]
    fn both_windows_are_granted_every_command() {
        let want: Vec<String> = COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        for path in [
            concat!(env!("CARGO_MANIFEST_DIR"), "/capabilities/main.json"),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../mobile/capabilities/mobile.json"
            ),
        ] {
            let have = granted(path);
            let ours: Vec<&String> = have.iter().filter(|p| p.starts_with("allow-")).collect();
            for w in &want {
                assert!(have.contains(w), "{path} does not grant {w}");
            }
            assert_eq!(
                ours.len(),
                want.len(),
                "{path} grants commands that do not exist"
            );
        }
    }
}
