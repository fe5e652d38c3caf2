import base.Accounts;
import base.Exec;
import base.Procfs;
import tmux.Tmux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Throwaway OS users (root only) with a private TMUX_TMPDIR, so tests never touch anyone's
 * default tmux socket. close() kills every process of those users and removes them, whatever
 * happened in the test.
 */
public final class TestUsers implements AutoCloseable {
    public final Path dir;
    public final Path tmuxTmp;
    public final Path bin;
    private final List<Accounts.Account> created = new ArrayList<>();

    public TestUsers() throws Exception {
        dir = Files.createTempDirectory("t3-test-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        tmuxTmp = Files.createDirectory(dir.resolve("tmux"));
        Children.check("chmod", "1777", tmuxTmp.toString()); // like /tmp: every user, sticky
        bin = Files.createDirectory(dir.resolve("bin"));
        Files.copy(Repo.FAKE_CLAUDE, bin.resolve("claude"));
        Files.setPosixFilePermissions(bin.resolve("claude"), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The account running the tests, with {@code home} for its home (a test's own folder), as a user t3 looks after. */
    public static Accounts.Account me(Path home) throws java.io.IOException {
        Accounts.Account real = Accounts.byUid(Accounts.currentUid()).orElseThrow();
        return new Accounts.Account(real.name(), real.uid(), real.gid(), home.toRealPath(), "/bin/bash");
    }

    public Accounts.Account create() {
        return create("/bin/bash");
    }

    /** A throwaway user with this login shell. */
    public Accounts.Account create(String shell) {
        String name = "t3t" + Long.toString(new Random().nextLong() & 0xffffffffL, 36);
        Children.check("useradd", "--create-home", "--shell", shell, "--user-group", name);
        Accounts.Account a = Accounts.byName(name).orElseThrow(() -> new AssertionError("useradd made no " + name));
        created.add(a);
        return a;
    }

    /**
     * What the scripts run with, as an operator's units give it: the roster {@code userMap} (its
     * lines), state in {@code state}, these users' tmux folder, the fake claude as T3_CLAUDE.
     */
    public Map<String, String> operatorEnv(Path state, String userMap) throws java.io.IOException {
        Path map = Files.writeString(dir.resolve("user-map"), userMap);
        return Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", state.toString(),
                "T3_TMUX_TMPDIR", tmuxTmp.toString(), "T3_CLAUDE", bin.resolve("claude").toString());
    }

    public Tmux tmux(Accounts.Account a) {
        return new Tmux(a, tmuxTmp, Duration.ofSeconds(10));
    }

    /** A detached session with a real size, running {@code command} (a shell command line) or the login shell. */
    public void newSession(Accounts.Account a, String name, Path cwd, String command) {
        List<String> args = new ArrayList<>(List.of("new-session", "-d", "-s", name, "-c", cwd.toString(), "-x", "200", "-y", "50"));
        if (command != null) args.add(command);
        Exec.Result r = tmux(a).run(args.toArray(String[]::new));
        if (!r.ok()) throw new AssertionError("tmux new-session " + name + " as " + a.name() + ": " + r.err());
    }

    /**
     * Types {@code line} and Enter at the shell prompt of a session's active pane, as a person
     * would, once the shell is ready to read it (a login shell still starting may drop typeahead).
     */
    public void type(Accounts.Account a, String session, String line) throws InterruptedException {
        typeInto(a, "=" + session + ":", line);
    }

    /** As {@link #type}, into the pane {@code target} names (a pane id "%3", or "=work:1.2"). */
    public void typeInto(Accounts.Account a, String target, String line) throws InterruptedException {
        boolean ready = Children.waitFor(() -> {
            Exec.Result pid = tmux(a).run("display-message", "-p", "-t", target, "#{pane_pid}");
            if (!pid.ok()) return false;
            Procfs procs = Procfs.read();
            java.util.List<Procfs.Proc> tree = procs.selfAndDescendants(Integer.parseInt(pid.out().strip()));
            // At its prompt the shell is alone in the pane and holds the terminal's foreground.
            return tree.size() == 1 && tree.get(0).tpgid() == tree.get(0).pid();
        }, java.time.Duration.ofSeconds(15));
        if (!ready) throw new AssertionError(target + ": no idle shell at the prompt to type into");
        Thread.sleep(300); // past the shell's start-up files
        Exec.Result r = tmux(a).run("send-keys", "-t", target, "-l", line);
        if (!r.ok() || !tmux(a).run("send-keys", "-t", target, "Enter").ok()) throw new AssertionError("send-keys to " + target + ": " + r.err());
    }

    public String claude(String... args) {
        return bin.resolve("claude") + (args.length == 0 ? "" : " " + String.join(" ", args));
    }

    /** The claude running in {@code session}'s first pane, as heal finds it; empty while she has no such session or claude. */
    public java.util.Optional<Procfs.Proc> claudeIn(Accounts.Account a, String session) {
        List<Tmux.LivePane> panes = tmux(a).listPanes();
        if (panes == null) return java.util.Optional.empty();
        return panes.stream().filter(p -> p.session().equals(session)).findFirst()
                .flatMap(p -> new claude.Conversations(Procfs.read(), a).claudeIn(p.pid()));
    }

    /** SIGKILLs the claude in {@code session}, as the OOM killer does, and waits until its shell has its prompt again. */
    public void killClaude(Accounts.Account a, String session) throws InterruptedException {
        Procfs.Proc c = claudeIn(a, session).orElseThrow(() -> new AssertionError(session + ": no claude to kill"));
        Children.check("kill", "-KILL", Integer.toString(c.pid()));
        if (!Children.waitFor(() -> claudeIn(a, session).isEmpty(), Duration.ofSeconds(5))) throw new AssertionError(session + ": claude outlived SIGKILL");
        Thread.sleep(500); // the shell prints "Killed" and its prompt
    }

    /** The pid of the user's tmux server. */
    public int serverPid(Accounts.Account a) {
        return Integer.parseInt(tmux(a).run("display-message", "-p", "#{pid}").out().strip());
    }

    /**
     * Signals every process of the account in OUR pid namespace only: a container booted by
     * another test may have a user of the same uid, whose processes are not ours to kill.
     * Returns pkill's exit status (0: some process was signalled).
     */
    public static int pkill(String signal, Accounts.Account a) {
        return Exec.run(List.of("pkill", signal, "--ns", Long.toString(ProcessHandle.current().pid()), "--nslist", "pid",
                "-u", Integer.toString(a.uid())), Duration.ofSeconds(5)).exit();
    }

    @Override
    public void close() throws Exception {
        for (Accounts.Account a : created) {
            pkill("-CONT", a);
            for (int i = 0; i < 20 && pkill("-KILL", a) == 0; i++) {
                Thread.sleep(100);
            }
            Exec.Result r = Exec.run(List.of("userdel", "--remove", "--force", a.name()), Duration.ofSeconds(30));
            if (!r.ok()) System.out.println("cleanup: userdel " + a.name() + ": " + r.err());
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
