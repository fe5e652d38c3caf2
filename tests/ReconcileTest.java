import store.SnapshotFormat;
import install.Units;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * t3-reconcile on a directory tree (--root), as for an image build: systemctl works offline
 * there. The same behaviour under a running systemd is in RebootTest.
 */
class ReconcileTest {
    @TempDir Path root;

    Children.Ran reconcile(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--root";
        all[1] = root.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return Repo.script("t3-reconcile.java", Map.of("T3_STATE_DIR", "/var/lib/t3-tmux-state"), all);
    }

    String enabled(String unit) {
        return Children.run(List.of("systemctl", "--root=" + root, "is-enabled", unit), Map.of(), Path.of("/"), Duration.ofSeconds(30)).out().strip();
    }

    @Test
    void unitsPassSystemdAnalyzeVerify(@TempDir Path rendered) throws Exception {
        for (Map.Entry<String, String> u : Units.render(Repo.ROOT).entrySet()) Files.writeString(rendered.resolve(u.getKey()), u.getValue());
        assertEquals(5, Units.render(Repo.ROOT).size());
        List<String> cmd = new java.util.ArrayList<>(List.of("systemd-analyze", "verify", "--man=no"));
        try (var files = Files.list(rendered)) {
            files.map(Path::toString).sorted().forEach(cmd::add);
        }
        Children.Ran r = Children.run(cmd, Map.of(), rendered, Duration.ofSeconds(60));
        assertEquals(0, r.exit(), r.all());
        assertEquals("", r.all().strip(), "no warnings either (unknown keys only warn)");
    }

    /** One person's units (units/user), rendered for a home of hers, pass systemd's own check as user units. */
    @Test
    void userUnitsPassSystemdAnalyzeVerifyUser(@TempDir Path home) throws Exception {
        base.Mode hers = base.Mode.of(Map.of("HOME", home.toString()), false);
        Map<String, String> units = Units.render(Repo.ROOT, hers);
        assertEquals(units.keySet(), Units.render(Repo.ROOT).keySet(), "the same five units as the system's");
        Path rendered = Files.createDirectories(home.resolve("rendered")), run = Files.createDirectories(home.resolve("run"));
        for (Map.Entry<String, String> u : units.entrySet()) Files.writeString(rendered.resolve(u.getKey()), u.getValue());
        assertTrue(units.get("t3-tmux-save.service").contains("JBANG_DIR=" + hers.cacheDir() + "/jbang"), "her caches, not the system's");
        assertTrue(units.get("t3-tmux-save.service").contains("ExecStart=/usr/bin/flock %t/t3-tmux.lock "), "the lock in her runtime dir");
        assertTrue(units.get("t3-tmux-restore.service").contains("WantedBy=default.target"), "restores when her manager starts");
        List<String> cmd = new java.util.ArrayList<>(List.of("systemd-analyze", "--user", "verify", "--man=no"));
        try (var files = Files.list(rendered)) {
            files.map(Path::toString).sorted().forEach(cmd::add);
        }
        // A user manager's checks need a runtime dir (as her login session would give).
        Children.Ran r = Children.run(cmd, Map.of("XDG_RUNTIME_DIR", run.toString()), rendered, Duration.ofSeconds(60));
        assertEquals(0, r.exit(), r.all());
        assertEquals("", r.all().strip(), "no warnings either (unknown keys only warn)");
    }

    @Test
    void installsHealsAndLeavesMasksAlone() throws Exception {
        Children.Ran first = reconcile("--check");
        assertEquals(1, first.exit(), "a bare tree has drifted: " + first.all());

        Children.Ran install = reconcile();
        assertEquals(0, install.exit(), install.all());
        Path units = root.resolve("usr/local/lib/systemd/system");
        String save = Files.readString(units.resolve("t3-tmux-save.service"));
        assertTrue(save.contains("ExecStart=/usr/bin/flock /run/t3-tmux.lock " + Repo.ROOT.toRealPath() + "/jbang --quiet --offline "), save);
        assertFalse(save.contains("@CHECKOUT@") || save.contains("@CACHE@"), "fully rendered");
        for (String service : List.of("t3-tmux-save.service", "t3-tmux-restore.service", "t3-tmux-reconcile.service")) {
            String text = Files.readString(units.resolve(service));
            assertTrue(text.contains("ExecStart=/usr/bin/flock /run/t3-tmux.lock "), service + ": one lock for all three scripts");
            assertTrue(text.contains("Environment=JBANG_DIR=/var/cache/t3-tmux/jbang JBANG_REPO=/var/cache/t3-tmux/m2"), service + ": no $HOME needed");
            assertTrue(text.contains("EnvironmentFile=-/etc/default/t3-tmux"), service);
        }
        assertTrue(Files.readString(units.resolve("t3-tmux-restore.service")).contains("--offline"), "the boot restore works without network");
        assertEquals("enabled", enabled("t3-tmux-save.timer"));
        assertEquals("enabled", enabled("t3-tmux-restore.service"));
        assertEquals("enabled", enabled("t3-tmux-reconcile.timer"));
        Path state = root.resolve("var/lib/t3-tmux-state");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));

        Children.Ran again = reconcile();
        assertEquals(0, again.exit(), again.all());
        assertTrue(again.all().contains("nothing to change"), again.all());
        assertEquals(0, reconcile("--check").exit());

        // drift of every kind: a hand-edited unit, a disabled timer, a readable snapshot
        Files.writeString(units.resolve("t3-tmux-save.timer"), "# edited by hand\n", java.nio.file.StandardOpenOption.APPEND);
        Children.check("systemctl", "--root=" + root, "disable", "t3-tmux-save.timer");
        Path snap = Files.writeString(state.resolve("alice.tsv"), SnapshotFormat.HEADER + "\n");
        Files.setPosixFilePermissions(snap, PosixFilePermissions.fromString("rw-r--r--"));
        Children.Ran check = reconcile("--check");
        assertEquals(1, check.exit(), check.all());
        assertTrue(check.all().contains("t3-tmux-save.timer differs") && check.all().contains("disabled")
                && check.all().contains("alice.tsv is mode rw-r--r--"), check.all());
        assertTrue(Files.readString(units.resolve("t3-tmux-save.timer")).contains("edited by hand"), "--check changed nothing");

        Children.Ran dry = reconcile("--dry-run");
        assertEquals(0, dry.exit(), dry.all());
        assertTrue(dry.all().contains("would fix"), dry.all());
        assertEquals("disabled", enabled("t3-tmux-save.timer"), "--dry-run changed nothing");

        Children.Ran heal = reconcile();
        assertEquals(0, heal.exit(), heal.all());
        assertTrue(heal.all().contains("replacing it"), heal.all());
        assertFalse(Files.readString(units.resolve("t3-tmux-save.timer")).contains("edited by hand"));
        assertEquals("enabled", enabled("t3-tmux-save.timer"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(snap)));

        // a mask is the operator's opt-out
        Children.check("systemctl", "--root=" + root, "mask", "t3-tmux-restore.service");
        Children.Ran masked = reconcile();
        assertEquals(0, masked.exit(), masked.all());
        assertTrue(masked.all().contains("t3-tmux-restore.service is masked"), masked.all());
        assertEquals("masked", enabled("t3-tmux-restore.service"));
        assertEquals(0, reconcile("--check").exit(), "a masked unit is no drift");
        Children.check("systemctl", "--root=" + root, "unmask", "t3-tmux-restore.service");
    }

    @Test
    void refusesSomethingThatIsNotACheckout() {
        Children.Ran r = reconcile("--checkout", root.toString());
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.all().contains("not a t3-tmux checkout"), r.all());
    }
}
