import store.SavedSession;
import store.SnapshotFormat;
import store.StateStore;
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
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The headline: tmux sessions and their conversations survive a real reboot under a real
 * systemd. Boots a container, installs with t3-reconcile, runs users' sessions with the fake
 * claude, saves through the unit, powers off, boots again, and checks what users would.
 */
class RebootTest {
    static final Map<String, String> UNIT_ENV = Units.jbangEnv();
    static final String CHECKOUT = "/opt/t3-tmux";

    @Test
    void sessionsAndConversationsSurviveARealReboot() throws Exception {
        String cannot = Container.cannotBoot();
        assumeTrue(cannot == null, cannot);
        long t0 = System.nanoTime();
        Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        List<String> binds = Container.operatorBinds(CHECKOUT, UNIT_ENV.get("JBANG_REPO"));

        try (Container c = Container.create(binds)) {
            // What an operator puts in place: settings, the roster, the claude binary.
            Files.writeString(c.dir.resolve("etc/default/t3-tmux"), "JAVA_HOME=" + javaHome + "\n");
            Files.writeString(c.dir.resolve("etc/ttyd-user-map"), "alice@example=alice\nbob@example=bob\n");
            Files.copy(Repo.FAKE_CLAUDE, c.dir.resolve("usr/local/bin/claude"));
            Files.setPosixFilePermissions(c.dir.resolve("usr/local/bin/claude"), PosixFilePermissions.fromString("rwxr-xr-x"));
            // An operator's drop-in (which reconcile must leave be): the first save 20 s after boot, not 2 min.
            Path dropIn = Files.createDirectories(c.dir.resolve("etc/systemd/system/t3-tmux-save.timer.d"));
            Files.writeString(dropIn.resolve("soon.conf"), "[Timer]\nOnBootSec=\nOnBootSec=20s\n");

            c.boot();
            Children.Ran install = reconcile(c);
            assertEquals(0, install.exit(), "install: " + install.all());
            assertEquals("enabled", c.exec(Duration.ofSeconds(30), "systemctl", "is-enabled", Units.RESTORE).out().strip());
            assertEquals("active", c.exec(Duration.ofSeconds(30), "systemctl", "is-active", Units.SAVE_TIMER).out().strip());
            assertTrue(Files.exists(c.dir.resolve(Units.INSTALL_DIR).resolve("t3-tmux-save.service")));
            assertTrue(Files.exists(dropIn.resolve("soon.conf")), "the operator's drop-in is untouched");

            for (String u : List.of("alice", "bob")) c.check("useradd", "--create-home", "--shell", "/bin/bash", u);
            c.check("setpriv", "--reuid=alice", "--regid=alice", "--init-groups", "--", "mkdir", "/home/alice/proj");
            startServer(c, "alice", "work", "/home/alice/proj", "claude");
            addSession(c, "alice", "twin", "/home/alice/proj", "claude");
            startServer(c, "bob", "main", "/home/bob", "claude");
            addSession(c, "bob", "notes", "/home/bob", null);
            assertTrue(Children.waitFor(() -> records(c, "alice") == 2 && records(c, "bob") == 1, Duration.ofSeconds(20)), "fake claudes started");

            c.check("systemctl", "start", "t3-tmux-save.service");
            // A drop-in that holds the next boot's restore for 20 s, the window in which a save
            // must refuse to run (and a drop-in that reconcile must leave be).
            Path slow = Files.createDirectories(c.dir.resolve("etc/systemd/system/t3-tmux-restore.service.d"));
            Files.writeString(slow.resolve("slow.conf"), "[Service]\nExecStartPre=/bin/sleep 20\n");
            Map<String, SavedSession> alice = snapshot(c, "alice"), bob = snapshot(c, "bob");
            assertEquals(Set.of("work", "twin"), alice.keySet());
            assertEquals(Set.of("main", "notes"), bob.keySet());
            Set<String> aliceIds = ids(alice), bobIds = ids(bob);
            assertEquals(2, aliceIds.size());
            assertEquals(1, bobIds.size());

            byte[] aliceBefore = Files.readAllBytes(c.dir.resolve("var/lib/t3-tmux-state/alice.tsv"));
            c.poweroff();
            c.bootUntilSystemdAnswers(); // the same root again: a reboot

            assertTrue(Children.waitFor(() -> c.property(Units.RESTORE, "ActiveState").equals("activating"), Duration.ofSeconds(60)),
                    "the boot restore is under way");
            Map<String, String> env = new java.util.HashMap<>(UNIT_ENV);
            env.put("JAVA_HOME", System.getProperty("java.home"));
            Children.Ran early = c.exec(Duration.ofMinutes(2), env, CHECKOUT + "/jbang", "--quiet", "--offline", CHECKOUT + "/t3-save.java");
            assertEquals(0, early.exit(), early.all());
            assertTrue(early.all().contains("has not finished; not saving"), "a save during the boot restore refuses: " + early.all());
            assertEquals("activating", c.property(Units.RESTORE, "ActiveState"), "the check ran while the restore was still running");
            assertArrayEquals(aliceBefore, Files.readAllBytes(c.dir.resolve("var/lib/t3-tmux-state/alice.tsv")));
            c.waitUntilUp();

            assertTrue(Children.waitFor(() -> !c.property(Units.RESTORE, "ActiveState").equals("inactive")
                    && !c.property(Units.RESTORE, "ActiveState").equals("activating"), Duration.ofMinutes(3)), "the boot restore finished");
            assertEquals("success", c.property(Units.RESTORE, "Result"),
                    c.exec(Duration.ofSeconds(30), "journalctl", "-b", "-u", Units.RESTORE, "--no-pager").out());
            Thread.sleep(30_000); // sessions must outlive the oneshot that started them
            assertEquals(Set.of("work", "twin"), sessions(c, "alice"), "alice's sessions, 30 s after the restore");
            assertEquals(Set.of("main", "notes"), sessions(c, "bob"), "bob's sessions, 30 s after the restore");
            assertEquals(aliceIds, resumed(c, "alice", "/home/alice/proj"), "alice's claudes resume their own conversations in proj");
            assertEquals(bobIds, resumed(c, "bob", "/home/bob"));
            for (String u : List.of("alice", "bob")) {
                String uid = c.check("id", "-u", u).strip();
                List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + u, "--regid=" + u, "--init-groups", "--"));
                cmd.addAll(userEnv(u));
                cmd.addAll(List.of("tmux", "display-message", "-p", "#{pid}"));
                String server = c.check(cmd.toArray(String[]::new)).strip();
                String cgroup = c.check("cat", "/proc/" + server + "/cgroup");
                assertTrue(cgroup.contains("/user-" + uid + ".slice/t3-tmux-" + u + "-"), u + "'s server in a scope of its own under its slice: " + cgroup);
            }
            // The servers live in scopes of their own: stopping the oneshot (RemainAfterExit keeps it
            // active until then) must not take every user's sessions with it.
            c.check("systemctl", "stop", Units.RESTORE);
            Thread.sleep(2_000);
            assertEquals(Set.of("work", "twin"), sessions(c, "alice"), "alice's sessions outlive the restore unit's stop");
            assertEquals(Set.of("main", "notes"), sessions(c, "bob"));

            assertTrue(Children.waitFor(() -> !c.property("t3-tmux-save.service", "ExecMainStartTimestampMonotonic").equals("0"), Duration.ofMinutes(2)),
                    "the timer's first save after boot ran");
            long restoreDone = Long.parseLong(c.property(Units.RESTORE, "ExecMainExitTimestampMonotonic"));
            long saveStart = Long.parseLong(c.property("t3-tmux-save.service", "ExecMainStartTimestampMonotonic"));
            assertTrue(saveStart > restoreDone, "first save (" + saveStart + ") after the restore finished (" + restoreDone + ")");
            assertTrue(Children.waitFor(() -> c.property("t3-tmux-save.service", "ActiveState").equals("inactive"), Duration.ofMinutes(1)));
            assertEquals("success", c.property("t3-tmux-save.service", "Result"));
            assertEquals(alice.keySet(), snapshot(c, "alice").keySet(), "the snapshot after the reboot still lists every session");
            assertEquals(aliceIds, ids(snapshot(c, "alice")));
            assertEquals(bobIds, ids(snapshot(c, "bob")));
            String journal = c.exec(Duration.ofSeconds(30), "journalctl", "-b", "-u", "t3-tmux-save.service", "-o", "cat", "--no-pager").out();
            assertTrue(journal.contains("alice: saved 2 sessions, 2 with a conversation"), journal);

            // The OOM killer takes alice's claude in "work": the save timer's service heals it in place.
            String workId = alice.get("work").conversation();
            int killed = claudeResuming(c, "alice", workId).orElseThrow(() -> new AssertionError("no claude resumes " + workId));
            c.check("kill", "-KILL", Integer.toString(killed));
            assertTrue(Children.waitFor(() -> claudeResuming(c, "alice", workId).isEmpty(), Duration.ofSeconds(10)));
            Thread.sleep(1_000); // the pane drops to alice's login shell
            c.check("systemctl", "start", "t3-tmux-save.service");
            assertTrue(Children.waitFor(() -> c.property("t3-tmux-save.service", "ActiveState").equals("inactive"), Duration.ofMinutes(2)),
                    "the save, then its heal, finished");
            String healLog = c.exec(Duration.ofSeconds(30), "journalctl", "-b", "-u", "t3-tmux-save.service", "-o", "cat", "--no-pager").out();
            assertTrue(healLog.contains("alice: healed conversation " + workId + " in session 'work'"), healLog);
            int healed = claudeResuming(c, "alice", workId).orElseThrow(() -> new AssertionError("not resumed: " + healLog));
            Thread.sleep(30_000);
            assertEquals(Optional.of(healed), claudeResuming(c, "alice", workId), "the healed claude outlives the service by 30 s");
            assertEquals(Set.of("work", "twin"), sessions(c, "alice"));

            // Self-healing, and a mask left alone.
            c.check("systemctl", "disable", "--now", Units.SAVE_TIMER);
            Children.Ran check = reconcile(c, "--check");
            assertEquals(1, check.exit(), check.all());
            assertEquals(0, reconcile(c).exit());
            assertEquals("enabled", c.exec(Duration.ofSeconds(30), "systemctl", "is-enabled", Units.SAVE_TIMER).out().strip());
            assertEquals("active", c.exec(Duration.ofSeconds(30), "systemctl", "is-active", Units.SAVE_TIMER).out().strip());
            assertEquals(0, reconcile(c, "--check").exit(), "clean after healing");
            c.check("systemctl", "mask", "--now", Units.RECONCILE_TIMER);
            Children.Ran masked = reconcile(c);
            assertEquals(0, masked.exit(), masked.all());
            assertTrue(masked.all().contains(Units.RECONCILE_TIMER + " is masked"), masked.all());
            assertEquals("masked", c.exec(Duration.ofSeconds(30), "systemctl", "is-enabled", Units.RECONCILE_TIMER).out().strip());
            assertEquals(0, reconcile(c, "--check").exit(), "a mask is no drift");
        }
        System.out.printf("reboot test took %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** The pid of the user's claude process resuming {@code id}, if one runs. */
    static Optional<Integer> claudeResuming(Container c, String user, String id) {
        for (String line : c.exec(Duration.ofSeconds(30), "ps", "-o", "pid=,comm=,args=", "-u", user).out().lines().toList()) {
            String[] f = line.strip().split("\\s+", 3);
            if (f.length == 3 && f[1].equals("claude") && f[2].contains("--resume " + id)) return Optional.of(Integer.parseInt(f[0]));
        }
        return Optional.empty();
    }

    /** t3-reconcile inside the container, run by hand as an operator would (with the units' caches). */
    static Children.Ran reconcile(Container c, String... args) {
        Map<String, String> env = new java.util.HashMap<>(UNIT_ENV);
        env.put("JAVA_HOME", System.getProperty("java.home"));
        List<String> cmd = new ArrayList<>(List.of(CHECKOUT + "/jbang", "--quiet", CHECKOUT + "/t3-reconcile.java"));
        cmd.addAll(List.of(args));
        return c.exec(Duration.ofMinutes(10), env, cmd.toArray(String[]::new));
    }

    static List<String> userEnv(String user) {
        return List.of("env", "-i", "HOME=/home/" + user, "USER=" + user, "LOGNAME=" + user, "SHELL=/bin/bash",
                "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8");
    }

    /** A user's first session: its server in a scope of its own, as a login session would give it. */
    static void startServer(Container c, String user, String session, String cwd, String command) {
        List<String> cmd = new ArrayList<>(List.of("systemd-run", "--scope", "--quiet", "--uid=" + user, "--gid=" + user, "--unit=login-" + user, "--"));
        cmd.addAll(userEnv(user));
        cmd.addAll(newSession(session, cwd, command));
        c.check(cmd.toArray(String[]::new));
    }

    static void addSession(Container c, String user, String session, String cwd, String command) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"));
        cmd.addAll(userEnv(user));
        cmd.addAll(newSession(session, cwd, command));
        c.check(cmd.toArray(String[]::new));
    }

    static List<String> newSession(String session, String cwd, String command) {
        List<String> cmd = new ArrayList<>(List.of("tmux", "new-session", "-d", "-s", session, "-c", cwd, "-x", "200", "-y", "50"));
        if (command != null) cmd.add(command);
        return cmd;
    }

    static Set<String> sessions(Container c, String user) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"));
        cmd.addAll(userEnv(user));
        cmd.addAll(List.of("tmux", "list-sessions", "-F", "#{session_name}"));
        Children.Ran r = c.exec(Duration.ofSeconds(30), cmd.toArray(String[]::new));
        return r.exit() == 0 ? new TreeSet<>(r.out().lines().toList()) : Set.of();
    }

    /** The conversation ids the user's claude processes resume, checking each runs in {@code dir}. */
    static Set<String> resumed(Container c, String user, String dir) {
        Set<String> ids = new TreeSet<>();
        Pattern resume = Pattern.compile("^\\s*(\\d+) .*/claude --resume ([0-9a-f-]{36})");
        for (String line : c.check("ps", "-o", "pid=,args=", "-u", user).lines().toList()) {
            Matcher m = resume.matcher(line);
            if (!m.find()) continue;
            assertEquals(dir, c.check("readlink", "/proc/" + m.group(1) + "/cwd").strip(), line);
            ids.add(m.group(2));
        }
        return ids;
    }

    static long records(Container c, String user) {
        try (var files = Files.list(c.dir.resolve("home/" + user + "/.claude/sessions"))) {
            return files.filter(f -> f.toString().endsWith(".json")).count();
        } catch (Exception e) {
            return 0;
        }
    }

    static Map<String, SavedSession> snapshot(Container c, String user) throws Exception {
        return new StateStore(c.dir.resolve("var/lib/t3-tmux-state")).history(user).readNewest().rows().stream()
                .collect(Collectors.toMap(SavedSession::session, r -> r));
    }

    static Set<String> ids(Map<String, SavedSession> rows) {
        return rows.values().stream().filter(SavedSession::hasConversation).map(SavedSession::conversation).collect(Collectors.toCollection(TreeSet::new));
    }
}
