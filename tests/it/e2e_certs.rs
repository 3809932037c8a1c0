//! End to end through a real sshd that trusts a user CA and asks `forge-keys --principals`
//! which principals of a certificate may log in: a certificate logs in as the user its
//! principal names (or is mapped to), and stops working at the next login once its CA or its
//! user is removed.

use crate::common;

use common::{Outcome, RootOwnedCopy, TestEnv};
use std::path::Path;
use std::process::Command;

/// Returns `<path>.pub`.
fn public(path: &Path) -> String {
    format!("{}.pub", path.display())
}

#[test]
fn certificates_log_in_as_their_principals_user_until_the_ca_or_the_user_goes() {
    let Some(command) = RootOwnedCopy::of_forge_keys_when_root() else {
        return;
    };
    let mut env = TestEnv::new();
    env.start_forged();
    let corp = env.make_ca("corp");
    // sshd trusts a second CA that forge does not know: forge must refuse its certificates.
    let rogue = env.make_ca("rogue");
    let trusted = env.path("cas/trusted");
    let both = std::fs::read_to_string(public(&corp)).unwrap()
        + &std::fs::read_to_string(public(&rogue)).unwrap();
    std::fs::write(&trusted, both).unwrap();
    env.forgectl_ok(["ca", "add", "corp", &public(&corp)]);
    env.forgectl_ok(["user", "add", "alice"]);
    env.forgectl_ok(["user", "add", "bob"]);
    env.forgectl_ok(["repo", "create", "acme/widgets"]);
    env.forgectl_ok(["grant", "acme/widgets", "alice", "write"]);
    env.forgectl_ok(["principal", "map", "ops-alice", "bob"]);
    env.start_sshd_with_principals_command(&command.path(), &trusted);

    // A certificate for the principal alice logs in as alice, and clones and pushes.
    let alice = env.as_certificate_holder("alice", &env.sign(&corp, "alice", "alice"));
    assert_eq!(
        alice.ssh(Some("whoami")).render(),
        "alice\n[exit 0]",
        "{}",
        env.logs()
    );
    let commit = alice.start_work("work");
    for args in [
        vec!["remote", "add", "origin", "forge:acme/widgets"],
        vec!["push", "-q", "origin", "main"],
    ] {
        let outcome = alice.git_in("work", &args);
        assert_eq!(outcome.code, Some(0), "{outcome}\n{}", env.logs());
    }
    let clone = alice.git(["clone", "-q", "forge:acme/widgets", "copy"]);
    assert_eq!(clone.code, Some(0), "{clone}");
    assert_eq!(
        alice.git_in("copy", ["rev-parse", "HEAD"]).stdout.trim(),
        commit
    );
    // The audit log names alice and the CA, and no key: a certificate session has none.
    let audit = env.forgectl_ok(["audit", "--json"]);
    let entries: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    assert_eq!(entries[0]["user"], "alice", "{audit}");
    assert_eq!(entries[0]["key"], serde_json::Value::Null, "{audit}");
    assert_eq!(entries[0]["ca"], "corp", "{audit}");
    assert!(
        env.forgectl_ok(["audit"]).stdout.contains("cert:corp"),
        "the table names the CA"
    );
    assert_eq!(entries[0]["new"], commit.as_str(), "{audit}");

    // A mapped principal logs in as the user it is mapped to.
    let ops = env.as_certificate_holder("opsperson", &env.sign(&corp, "opsperson", "ops-alice"));
    assert_eq!(ops.ssh(Some("whoami")).render(), "bob\n[exit 0]");

    // An unknown principal is refused by sshd itself: forge printed no line.
    let mallory = env.as_certificate_holder("mallory", &env.sign(&corp, "mallory", "nobody"));
    let refused = mallory.ssh(Some("whoami"));
    assert_eq!(refused.code, Some(255), "{refused}");
    assert!(refused.stderr.contains("Permission denied"), "{refused}");

    // A CA sshd trusts but forge does not is refused, even for a known principal.
    let eve = env.as_certificate_holder("eve", &env.sign(&rogue, "eve", "alice"));
    assert_eq!(eve.ssh(Some("whoami")).code, Some(255));

    // Removing the user refuses their certificate at the next login.
    env.forgectl_ok(["user", "remove", "alice"]);
    assert_eq!(alice.ssh(Some("whoami")).code, Some(255));

    // Removing the CA refuses its certificates at the next login.
    env.forgectl_ok(["ca", "remove", "corp"]);
    let refused = ops.ssh(Some("whoami"));
    assert_eq!(refused.code, Some(255), "{refused}");
}

#[test]
fn forge_keys_prints_principal_lines_only_for_a_registered_ca() {
    let mut env = TestEnv::new();
    env.start_forged();
    let corp = env.make_ca("corp");
    env.forgectl_ok(["ca", "add", "corp", &public(&corp)]);
    env.forgectl_ok(["user", "add", "alice"]);
    env.forgectl_ok(["user", "add", "bob"]);
    env.forgectl_ok(["principal", "map", "ops-alice", "alice"]);
    let certificate = env.sign(&corp, "holder", "alice,ops-alice,nobody,al\"ice");
    let text = std::fs::read_to_string(&certificate).unwrap();
    let mut words = text.split_whitespace();
    let (cert_type, blob) = (words.next().unwrap(), words.next().unwrap());
    let config = env.config.clone();
    let lookup = |login: &str, cert_type: &str, blob: &str| {
        let mut command = Command::new(common::FORGE_KEYS);
        command
            .arg("--config")
            .arg(&config)
            .arg("--principals")
            .args([login, cert_type, blob]);
        Outcome::of(&mut command, None)
    };
    let shell = common::FORGE_SHELL;
    let config_path = env.config.display().to_string();
    assert_eq!(
        lookup(&common::login_user(), cert_type, blob).render(),
        format!("command=\"{shell} --config {config_path} cert-1:alice\",restrict alice\n[exit 0]"),
        "two principals of alice give one line"
    );
    // #11: principals of two users would log in as the first of them; nobody is let in.
    let both = std::fs::read_to_string(env.sign(&corp, "both", "alice,bob")).unwrap();
    let mut words = both.split_whitespace();
    let (both_type, both_blob) = (words.next().unwrap(), words.next().unwrap());
    assert_eq!(
        lookup(&common::login_user(), both_type, both_blob).render(),
        "[exit 0]"
    );
    // #11: a certificate made without -V is valid forever, as ssh-keygen means it.
    let forever_key = env.make_key("forever");
    let signed = Command::new("ssh-keygen")
        .args(["-q", "-s"])
        .arg(&corp)
        .args(["-I", "forever-id", "-n", "alice"])
        .arg(format!("{}.pub", forever_key.display()))
        .status()
        .unwrap();
    assert!(signed.success());
    let forever = std::fs::read_to_string(format!("{}-cert.pub", forever_key.display())).unwrap();
    let mut words = forever.split_whitespace();
    let (forever_type, forever_blob) = (words.next().unwrap(), words.next().unwrap());
    assert_eq!(
        lookup(&common::login_user(), forever_type, forever_blob).render(),
        format!("command=\"{shell} --config {config_path} cert-1:alice\",restrict alice\n[exit 0]")
    );
    assert_eq!(lookup("someone-else", cert_type, blob).render(), "[exit 0]");
    assert_eq!(
        lookup(&common::login_user(), cert_type, "AAAAnotacert").render(),
        "[exit 0]"
    );
    // A plain key is no certificate.
    let key = std::fs::read_to_string(public(&env.make_key("holder"))).unwrap();
    let mut words = key.split_whitespace();
    let (key_type, key_blob) = (words.next().unwrap(), words.next().unwrap());
    assert_eq!(
        lookup(&common::login_user(), key_type, key_blob).render(),
        "[exit 0]"
    );

    // forge-shell resolves the certificate identity at every request.
    let whoami = |identity: &str| {
        let mut command = Command::new(common::FORGE_SHELL);
        command
            .env_clear()
            .env("SSH_ORIGINAL_COMMAND", "whoami")
            .arg("--config")
            .arg(&config)
            .arg(identity);
        Outcome::of(&mut command, None)
    };
    assert_eq!(whoami("cert-1:bob").render(), "bob\n[exit 0]");
    assert_eq!(whoami("cert-2:bob").code, Some(1), "an unknown CA");
    env.forgectl_ok(["ca", "remove", "corp"]);
    let refused = whoami("cert-1:bob");
    assert_eq!(
        refused.render(),
        "forge: this certificate's CA or user is no longer registered with forge; ask an admin\n[exit 1]"
    );
    assert_eq!(
        lookup(&common::login_user(), cert_type, blob).render(),
        "[exit 0]"
    );
    // A CA re-added gets a new id: sessions of the old one stay refused.
    env.forgectl_ok(["ca", "add", "corp", &public(&corp)]);
    assert_eq!(whoami("cert-1:bob").code, Some(1));
    assert!(
        lookup(&common::login_user(), cert_type, blob)
            .stdout
            .contains("cert-2:alice"),
    );
}
