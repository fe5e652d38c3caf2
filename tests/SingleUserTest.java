import base.Accounts;
import base.Mode;
import base.Procfs;
import claude.Conversations;
import install.Units;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tmux.Tmux;

/**
 * One person, not root, on her own machine: her checkout in her home, t3 run as her (no
 * setpriv, no roster), state in her XDG folders. Installs with t3-reconcile as she would, then
 * save, kill-server, restore and heal on her real tmux server, and nothing of hers is written
 * outside her home and her tmux socket folder.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SingleUserTest {
    TestUsers users;
    Accounts.Account her;
    Path checkout, proj, marker;
    Mode mode;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create the throwaway person who is not root; run the tests as root (CI does)");
        users = new TestUsers();
        Person person = new Person(users);
        her = person.account;
        mode = person.mode;
        checkout = person.checkout;
        asHer = person;
        proj = her.home().resolve("proj");
        Children.asUser(her, "mkdir", "-p", proj.toString());
        marker = users.dir.resolve("marker");
        Files.writeString(marker, "");
        Thread.sleep(1100); // file times in whole seconds on some file systems: what she writes is newer
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    Person asHer;

    Children.Ran asHer(String script, String... args) {
        return asHer.run(script, args);
    }

    Path state() { return mode.stateDir(); }

    Optional<Procfs.Proc> claudeIn(String session) {
        List<Tmux.LivePane> panes = users.tmux(her).listPanes();
        if (panes == null) return Optional.empty();
        return panes.stream().filter(p -> p.session().equals(session)).findFirst()
                .flatMap(p -> new Conversations(Procfs.read(), her).claudeIn(p.pid()));
    }

    Set<String> sessions() {
        List<Tmux.LivePane> panes = users.tmux(her).listPanes();
        return panes == null ? Set.of() : panes.stream().map(Tmux.LivePane::session).collect(Collectors.toSet());
    }

    static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    static boolean isEmptyDir(Path d) {
        try (var in = Files.list(d)) {
            return in.findAny().isEmpty();
        } catch (java.io.IOException e) {
            return false;
        }
    }

    int owner(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    @Order(1)
    void reconcileInstallsHerUnitsStateAndCaches() throws Exception {
        Children.Ran r = asHer("t3-reconcile.java");
        assertEquals(0, r.exit(), r.all());
        Path units = her.home().resolve(".config/systemd/user");
        for (String u : List.of("t3-tmux-save.service", "t3-tmux-save.timer", "t3-tmux-restore.service", "t3-tmux-reconcile.service",
                "t3-tmux-reconcile.timer")) {
            assertTrue(Files.isRegularFile(units.resolve(u)), u + " installed in " + units + ": " + r.all());
            assertEquals(her.uid(), owner(units.resolve(u)));
            assertTrue(Files.readString(units.resolve(u)).contains(checkout.toRealPath().toString()), u + " runs her checkout");
        }
        assertTrue(Files.isSymbolicLink(units.resolve("timers.target.wants/t3-tmux-save.timer")), "the save timer is enabled: " + r.all());
        assertTrue(Files.isSymbolicLink(units.resolve("default.target.wants/t3-tmux-restore.service")), "the restore runs when her manager starts");
        assertEquals("rwx------", mode(state()));
        assertEquals(her.uid(), owner(state()));
        assertTrue(Files.isRegularFile(Units.lastGood(mode).resolve("t3-save/t3-save.jar")), "her caches are warm: " + r.all());
        assertTrue(r.all().contains("linger is off for " + her.name()) && r.all().contains("loginctl enable-linger " + her.name()),
                "says when her sessions come back, and how to have them at boot: " + r.all());
        // A unit she edited by hand: --dry-run says it would put it back and changes nothing; --check says it drifted.
        Path save = units.resolve("t3-tmux-save.service");
        String installed = Files.readString(save);
        Files.writeString(save, installed + "# hers\n");
        Children.Ran dry = asHer("t3-reconcile.java", "--dry-run", "--no-build");
        assertEquals(0, dry.exit(), dry.all());
        assertTrue(dry.all().contains("would fix: " + save + " differs"), dry.all());
        assertTrue(Files.readString(save).endsWith("# hers\n"), "a dry run changes nothing");
        assertEquals(1, asHer("t3-reconcile.java", "--check", "--no-build").exit(), "drift found");
        assertEquals(0, asHer("t3-reconcile.java", "--no-build").exit());
        assertEquals(installed, Files.readString(save), "healed");
        Children.Ran check = asHer("t3-reconcile.java", "--check");
        assertEquals(0, check.exit(), "converged: " + check.all());
        assertTrue(check.all().contains("no drift"), check.all());
    }

    @Test
    @Order(2)
    void saveKillServerRestoreAndHealAllAsHer() throws Exception {
        users.newSession(her, "work", proj, null);
        users.type(her, "work", users.claude());
        users.newSession(her, "notes", her.home(), null);
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(20)), "her claude started");
        String id = new Conversations(Procfs.read(), her).of(claudeIn("work").orElseThrow()).orElseThrow().id();

        Children.Ran save = asHer("t3-save.java");
        assertEquals(0, save.exit(), save.all());
        Path pointer = state().resolve(her.name() + ".tsv");
        assertTrue(Files.isSymbolicLink(pointer), "her newest snapshot, in her state dir: " + save.all());
        Path snapshot = pointer.resolveSibling(Files.readSymbolicLink(pointer));
        assertEquals("rw-------", mode(snapshot));
        assertEquals(her.uid(), owner(snapshot));
        assertTrue(Files.readString(snapshot).contains(id), "the conversation is saved");

        assertTrue(users.tmux(her).run("kill-server").ok());
        assertTrue(Children.waitFor(() -> sessions().isEmpty(), Duration.ofSeconds(10)));
        Children.Ran restore = asHer("t3-restore.java", "--session", "work", "--session", "notes");
        assertEquals(0, restore.exit(), restore.all());
        assertEquals(Set.of("work", "notes"), sessions(), restore.all());
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(20)), "claude resumed: " + restore.all());
        Procfs.Proc resumed = claudeIn("work").orElseThrow();
        assertEquals(List.of("--resume", id), resumed.argv().subList(resumed.argv().indexOf("--resume"), resumed.argv().indexOf("--resume") + 2));
        assertEquals(proj, Procfs.read().cwd(resumed.pid()).orElseThrow());
        assertEquals(her.uid(), resumed.uid());

        // A crash of her claude (SIGKILL leaves its live record): heal resumes it in the same pane.
        String pane = users.tmux(her).listPanes().stream().filter(p -> p.session().equals("work")).findFirst().orElseThrow().id();
        assertEquals(0, asHer("t3-save.java").exit());
        Children.check("kill", "-KILL", Integer.toString(resumed.pid()));
        assertTrue(Children.waitFor(() -> claudeIn("work").isEmpty(), Duration.ofSeconds(5)));
        Thread.sleep(500); // the shell prints "Killed" and its prompt
        Children.Ran heal = asHer("t3-restore.java", "--heal");
        assertEquals(0, heal.exit(), heal.all());
        assertTrue(heal.all().contains("healed conversation " + id + " in session 'work' (pane " + pane + ")"), heal.all());
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(20)), "healed: " + heal.all());
        assertTrue(Files.isRegularFile(state().resolve(her.name() + ".heals")), "what heal did, in her state dir");
    }

    @Test
    @Order(3)
    void nothingOfHersIsWrittenOutsideHerHomeAndSocketFolder() throws Exception {
        assertTrue(Files.isDirectory(state()), "she ran t3 (the tests before this one)");
        Path socketDir = users.tmuxTmp.resolve("tmux-" + her.uid());
        Children.Ran found = Children.run(List.of("find", "/tmp", "/var/tmp", "/dev/shm", "/run", "/var/lib", "/var/cache", "/etc", "/usr/local", "/home", "-xdev",
                "(", "-path", her.home().toString(), "-prune", ")", "-o",
                "-user", Integer.toString(her.uid()), "-newer", marker.toString(), "-print"), Map.of(), Path.of("/"), Duration.ofMinutes(2));
        // The JVM's own scratch folder is javac's (her reconcile builds the scripts), not t3's: the
        // scripts run with -XX:-UsePerfData, and what javac leaves there is gone when it exits.
        Path jvmScratch = Path.of("/tmp/hsperfdata_" + her.name());
        List<String> outside = found.out().lines().filter(l -> !l.startsWith(socketDir.toString()))
                .filter(l -> !(l.equals(jvmScratch.toString()) && isEmptyDir(jvmScratch))).toList();
        assertEquals(List.of(), outside, "files of hers outside her home and her tmux socket folder");
    }
}
