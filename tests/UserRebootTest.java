import base.Mode;
import install.Units;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * One person, not root, under a real systemd: she installs t3 into her own user manager, turns
 * linger on, and after a reboot her user units bring her sessions back (her manager starts at
 * boot), each conversation resumed, her server in a scope of its own under her manager.
 */
class UserRebootTest {
    static final String CHECKOUT = "/home/ann/t3-tmux";

    @Test
    void withLingerHerUserUnitsBringHerSessionsBackAfterAReboot() throws Exception {
        String cannot = Container.cannotBoot();
        assumeTrue(cannot == null, cannot);
        long t0 = System.nanoTime();
        Path m2 = Container.warmJBangRepo();
        Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        try (Container c = Container.create(Container.jdkBinds())) {
            Files.copy(Repo.FAKE_CLAUDE, c.dir.resolve("usr/local/bin/claude"));
            Files.setPosixFilePermissions(c.dir.resolve("usr/local/bin/claude"), PosixFilePermissions.fromString("rwxr-xr-x"));
            c.boot();
            c.check("useradd", "--create-home", "--shell", "/bin/bash", "ann");
            String uid = c.check("id", "-u", "ann").strip();
            Mode hers = Mode.of(Map.of("HOME", "/home/ann"), false);
            // Her own checkout and her units' caches, as she would have them after a first online reconcile.
            Path home = c.dir.resolve("home/ann");
            Path checkout = Files.createDirectories(home.resolve("t3-tmux"));
            for (String f : List.of("jbang", "t3-save.java", "t3-restore.java", "t3-reconcile.java", "lib", "units")) {
                Children.check("cp", "-a", Repo.ROOT.resolve(f).toString(), checkout.toString());
            }
            Path cache = c.dir.resolve(Path.of("/").relativize(Units.cache(hers)));
            Files.createDirectories(cache);
            Children.check("cp", "-a", m2.toString(), cache.resolve("m2").toString());
            // Her user manager has no JAVA_HOME of its own: her settings file gives it, as the units read it.
            Path settings = Files.createDirectories(home.resolve(".config/t3-tmux")).resolve("env");
            Files.writeString(settings, "JAVA_HOME=" + javaHome + "\n");
            Files.createDirectories(home.resolve("proj"));
            c.check("chown", "-R", "ann:ann", "/home/ann");
            c.check("chmod", "-R", "go-w", CHECKOUT);
            // Linger on (as `loginctl enable-linger ann` records it), and her manager started now.
            Files.createDirectories(c.dir.resolve("var/lib/systemd/linger"));
            Files.writeString(c.dir.resolve("var/lib/systemd/linger/ann"), "");
            Children.Ran manager = c.exec(Duration.ofMinutes(1), "systemctl", "start", "user@" + uid + ".service");
            assertEquals(0, manager.exit(), "her user manager starts: " + manager.all()
                    + c.exec(Duration.ofSeconds(30), "journalctl", "-b", "-u", "user@" + uid + ".service", "-u", "user-runtime-dir@" + uid + ".service",
                    "-u", "systemd-logind.service", "--no-pager").out());

            Children.Ran install = asAnn(c, uid, CHECKOUT + "/jbang", "--quiet", CHECKOUT + "/t3-reconcile.java");
            assertEquals(0, install.exit(), install.all());
            assertTrue(install.all().contains("linger is on for ann"), install.all());
            assertEquals("enabled", asAnn(c, uid, "systemctl", "--user", "is-enabled", Units.SAVE_TIMER).out().strip());
            assertEquals("active", asAnn(c, uid, "systemctl", "--user", "is-active", Units.SAVE_TIMER).out().strip());
            assertEquals("enabled", asAnn(c, uid, "systemctl", "--user", "is-enabled", Units.RESTORE).out().strip());

            assertEquals(0, asAnn(c, uid, "tmux", "new-session", "-d", "-s", "work", "-c", "/home/ann/proj", "-x", "200", "-y", "50", "claude").exit());
            assertEquals(0, asAnn(c, uid, "tmux", "new-session", "-d", "-s", "notes", "-c", "/home/ann", "-x", "200", "-y", "50").exit());
            assertTrue(Children.waitFor(() -> !records(c).isEmpty(), Duration.ofSeconds(20)), "her claude started");
            Children.Ran save = asAnn(c, uid, "systemctl", "--user", "start", "t3-tmux-save.service");
            assertEquals(0, save.exit(), save.all() + journal(c, uid, "t3-tmux-save.service"));
            Path snapshot = home.resolve(".local/state/t3-tmux/ann.tsv");
            assertTrue(Files.isSymbolicLink(snapshot), "her unit saved into her state dir: " + journal(c, uid, "t3-tmux-save.service"));
            String saved = Files.readString(snapshot.resolveSibling(Files.readSymbolicLink(snapshot)));
            String id = records(c).iterator().next();
            assertTrue(saved.contains(id), "her conversation is in the snapshot: " + saved);

            c.poweroff();
            c.bootUntilSystemdAnswers(); // the same root again: a reboot
            c.waitUntilUp();
            // With linger her manager starts at boot, and with it her restore unit (RemainAfterExit: active once done).
            assertTrue(Children.waitFor(() -> asAnn(c, uid, "systemctl", "--user", "show", "--value", "-p", "ActiveState", Units.RESTORE)
                    .out().strip().equals("active"), Duration.ofMinutes(3)), "her restore ran at boot: " + journal(c, uid, Units.RESTORE));
            assertEquals("success", asAnn(c, uid, "systemctl", "--user", "show", "--value", "-p", "Result", Units.RESTORE).out().strip(),
                    journal(c, uid, Units.RESTORE));
            Thread.sleep(15_000); // her sessions must outlive the oneshot that started them
            assertEquals(Set.of("work", "notes"), sessions(c, uid), "her sessions, after the reboot: " + journal(c, uid, Units.RESTORE));
            assertTrue(Children.waitFor(() -> RebootTest.claudeResuming(c, "ann", id).isPresent(), Duration.ofSeconds(60)),
                    "her claude resumes its conversation: " + journal(c, uid, Units.RESTORE));
            String server = asAnn(c, uid, "tmux", "display-message", "-p", "#{pid}").out().strip();
            String cgroup = c.check("cat", "/proc/" + server + "/cgroup");
            assertTrue(cgroup.contains("/user@" + uid + ".service/") && cgroup.contains("/t3-tmux-ann-"),
                    "her server in a scope of its own under her manager: " + cgroup);
            asAnn(c, uid, "systemctl", "--user", "stop", Units.RESTORE);
            Thread.sleep(2_000);
            assertEquals(Set.of("work", "notes"), sessions(c, uid), "her sessions outlive the restore unit's stop");
        }
        System.out.printf("user reboot test took %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** A command as ann, with what her login gives: her home, her runtime dir (her manager's bus), JBang's caches of her units. */
    static Children.Ran asAnn(Container c, String uid, String... command) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=ann", "--regid=ann", "--init-groups", "--", "env", "-i",
                "HOME=/home/ann", "USER=ann", "LOGNAME=ann", "SHELL=/bin/bash", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
                "XDG_RUNTIME_DIR=/run/user/" + uid, "JAVA_HOME=" + System.getProperty("java.home")));
        Units.jbangEnv(Mode.of(Map.of("HOME", "/home/ann"), false)).forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.addAll(List.of(command));
        return c.exec(Duration.ofMinutes(10), cmd.toArray(String[]::new));
    }

    static Set<String> sessions(Container c, String uid) {
        Children.Ran r = asAnn(c, uid, "tmux", "list-sessions", "-F", "#{session_name}");
        return r.exit() == 0 ? new TreeSet<>(r.out().lines().toList()) : Set.of();
    }

    /** The conversations her claudes hold now, by their live records. */
    static Set<String> records(Container c) {
        Set<String> ids = new TreeSet<>();
        Path sessions = c.dir.resolve("home/ann/.claude/sessions");
        if (!Files.isDirectory(sessions)) return ids;
        try (var files = Files.newDirectoryStream(sessions, "*.json")) {
            for (Path f : files) {
                var m = java.util.regex.Pattern.compile("\"sessionId\":\"([0-9a-f-]{36})\"").matcher(Files.readString(f));
                if (m.find()) ids.add(m.group(1));
            }
        } catch (java.io.IOException e) {
            return ids;
        }
        return ids;
    }

    static String journal(Container c, String uid, String unit) {
        return "\n" + c.exec(Duration.ofSeconds(30), "journalctl", "-b", "_UID=" + uid, "--user-unit", unit, "-o", "cat", "--no-pager").out();
    }
}
