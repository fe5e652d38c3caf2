package tmux;

import base.Accounts;
import base.Exec;
import base.Log;
import base.Mode;
import base.Procfs;
import base.Settings;
import base.Systemd;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One user's tmux server, always driven AS that user (setpriv when we are root), with a clean
 * environment and a timeout on every call. Root itself only connects (and hangs up at once) to
 * tell a live socket from a stale one, and only to a real socket the user owns.
 */
public final class Tmux {
    /** A session, by its literal name, and the pid of its active pane. */
    public record Session(String id, String name, int panePid, java.time.Instant created) {
        public Session(String id, String name, int panePid) {
            this(id, name, panePid, java.time.Instant.EPOCH);
        }
    }

    /**
     * SUSPECT: not a socket the user owns (a symlink, say): left alone. UNANSWERED: something
     * listens but did not accept within the probe's deadline (a hung server, or a user who
     * filled her own socket's backlog): a server that does not answer, NOT a stale socket.
     */
    public enum SocketState { ABSENT, STALE, LIVE, UNANSWERED, SUSPECT }

    /**
     * How long root waits for a user's socket to accept. A live tmux server accepts at once;
     * the socket is the user's, so without a deadline she could make root's run wait forever.
     */
    public static final Duration PROBE_DEADLINE = Duration.ofSeconds(1);

    /** Why a listing has no sessions to save, in words for the log. */
    public enum Status {
        OK("ok"), NO_SERVER("no tmux server (no socket)"), STALE_SOCKET("stale socket, its server is gone"),
        NO_SESSIONS("the server answered with zero sessions"), TIMED_OUT("tmux did not answer in time"),
        FAILED("the tmux call failed");
        public final String words;
        Status(String words) { this.words = words; }
    }

    /**
     * Which server a user's tmux is: its pid, its start time (epoch seconds), and the boot it ran
     * in (the kernel's boot id; null when not known). A server that died and was started again is
     * another server, though its socket is the same file: the sessions of the one before died with
     * it, and crash evidence (an OOM line, a reboot) names the server it ended.
     */
    public record Server(int pid, long start, String boot, String cgroup) {
        /** A server whose cgroup is not known (a key read back, an older snapshot). */
        public Server(int pid, long start, String boot) {
            this(pid, start, boot, null);
        }

        /** The same server, in cgroup {@code cgroup} (null: not known): systemd-oomd kills by cgroup. Not part of its key. */
        public Server withCgroup(String cgroup) { return new Server(pid, start, boot, cgroup); }

        /** {@code pid@start@boot}, as snapshots and the heal ledger write it. */
        public String key() { return pid + "@" + start + (boot == null ? "" : "@" + boot); }

        public Instant started() { return Instant.ofEpochSecond(start); }

        /** The same server, known to run in {@code boot}. */
        Server in(String boot) { return new Server(pid, start, boot, cgroup); }

        /** A key as {@link #key()} writes it (the boot may be left out), or empty: a pid, a time before year 30000, a boot id. */
        public static java.util.Optional<Server> parse(String key) {
            java.util.regex.Matcher m = KEY.matcher(key == null ? "" : key);
            if (!m.matches()) return java.util.Optional.empty();
            try {
                return java.util.Optional.of(new Server(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), m.group(3)));
            } catch (NumberFormatException e) {
                return java.util.Optional.empty();
            }
        }

        @Override
        public String toString() { return "pid " + pid + ", started " + started(); }

        private static final java.util.regex.Pattern KEY = java.util.regex.Pattern.compile("(\\d{1,9})@(\\d{1,12})(?:@([0-9a-f-]{1,64}))?");
    }

    /** What a listing found: the sessions (each with its active pane's pid), every pane of theirs, and which server said so (null: not known). */
    public record Listing(Status status, List<Session> sessions, String detail, List<LivePane> panes, Server server) {
        public Listing(Status status, List<Session> sessions, String detail) {
            this(status, sessions, detail, List.of());
        }

        public Listing(Status status, List<Session> sessions, String detail, List<LivePane> panes) {
            this(status, sessions, detail, panes, null);
        }

        /** The session's panes, in window then pane order. */
        public List<LivePane> panesOf(Session s) {
            return panes.stream().filter(p -> p.sessionId().equals(s.id())).toList();
        }
    }

    /**
     * One pane of a live session, with its window: the window's index, name (as tmux holds it: a
     * name given with -n may hold any character), whether tmux names it after its program
     * (automatic-rename), layout, and whether it is active and zoomed; the pane's index, id,
     * process, whether it is its window's active pane, its server's start time, its session's
     * name, and where its cursor is (heal reads the cursor line for a prompt).
     */
    public record LivePane(String sessionId, int window, String windowName, boolean autoName, String layout, boolean windowActive, boolean zoomed,
                           int index, String id, int pid, boolean active, String serverStart, String session, int cursorX, int cursorY) {
        /** The first pane of a window a restore just made, as far as tmux's answer says: its session, window, id and process. */
        public static LivePane made(String sessionId, int window, String id, int pid) {
            return new LivePane(sessionId, window, "", false, "", true, false, 0, id, pid, true, "", "", 0, 0);
        }

        /** The same pane with process {@code pid} ({@link #NO_PROCESS}-like values included: one we do not trust). */
        public LivePane withPid(int pid) {
            return new LivePane(sessionId, window, windowName, autoName, layout, windowActive, zoomed, index, id, pid, active, serverStart, session,
                    cursorX, cursorY);
        }

        /** This pane for as long as it lives: its id, which its server never gives another, and that server's start ({@link #paneIdOf}). */
        public String key() { return id + "@" + serverStart; }
    }

    private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
    /** Her own variables a server she starts herself keeps (single-user mode): paths only. */
    private static final List<String> OWN_VARIABLES = List.of("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
            "XDG_DATA_HOME", "JAVA_HOME");
    /** This boot: every server a run sees runs in it. */
    private static final String BOOT = Procfs.bootId();

    private final Accounts.Account account;
    private final Path tmpDir;
    /** The server's socket: a name in {@code <tmpDir>/tmux-<uid>/} (tmux -L), or a path (tmux -S). */
    private final String socketName;
    private final Duration timeout;
    /** When this run's budget for the user runs out (System.nanoTime), and whether her server hung once. */
    private final long budgetEnd;
    private final Duration budget;
    private boolean hung;

    public Tmux(Accounts.Account account, Path tmpDir, Duration timeout) {
        this(account, tmpDir, timeout, Duration.ofDays(1));
    }

    /**
     * A user's server for one run: each call may take {@code timeout}, all of them together
     * {@code budget}, so a user with hundreds of sessions on a hung server costs the run the
     * budget, not hundreds of timeouts. After one timeout the server counts as hung and the
     * rest of the run's calls to it fail at once.
     */
    public Tmux(Accounts.Account account, Path tmpDir, Duration timeout, Duration budget) {
        this(account, tmpDir, DEFAULT_SOCKET, timeout, budget);
    }

    /** As above, on the server of socket {@code socketName} (a name, or in single-user mode a path: {@link Settings#tmuxSocket}). */
    public Tmux(Accounts.Account account, Path tmpDir, String socketName, Duration timeout, Duration budget) {
        this.account = account;
        this.tmpDir = tmpDir;
        this.socketName = socketName;
        this.timeout = timeout;
        this.budget = budget;
        this.budgetEnd = System.nanoTime() + budget.toNanos();
    }

    /** Whether a call timed out (or the budget ran out) in this run: the rest fail at once. */
    public boolean hung() {
        return hung || budgetEnd - System.nanoTime() <= 0;
    }

    /** The user's server as the settings say: TMUX_TMPDIR, the socket, the per-call timeout, the per-user budget. */
    public static Tmux of(Accounts.Account account, Settings settings) {
        return new Tmux(account, settings.tmuxTmpDir(), settings.tmuxSocket(), settings.tmuxTimeout(), settings.userBudget());
    }

    /** The socket tmux uses when told none. */
    public static final String DEFAULT_SOCKET = "default";

    /** The user's socket: {@code <tmpdir>/tmux-<uid>/<name>}, or the path the settings gave. */
    public Path socket() {
        return socketOf(tmpDir, socketName, account.uid());
    }

    /** The default socket of uid's server under a TMUX_TMPDIR: {@code <tmpdir>/tmux-<uid>/default}. */
    public static Path socketOf(Path tmpDir, int uid) {
        return socketOf(tmpDir, DEFAULT_SOCKET, uid);
    }

    /** uid's socket {@code name} under a TMUX_TMPDIR ({@code <tmpdir>/tmux-<uid>/<name>}), or {@code name} itself when it is a path. */
    public static Path socketOf(Path tmpDir, String name, int uid) {
        return name.startsWith("/") ? Path.of(name) : tmpDir.resolve("tmux-" + uid).resolve(name);
    }

    /** The options that point tmux at the socket: none for the default, else -L NAME or -S PATH. */
    private List<String> socketOptions() {
        if (socketName.equals(DEFAULT_SOCKET)) return List.of();
        return List.of(socketName.startsWith("/") ? "-S" : "-L", socketName);
    }

    /**
     * The uids whose default server under {@code tmpDir} accepts a connection. The uid comes from
     * the socket directory's owner, which tmux itself insists on; a server that does not answer
     * is said in the log and left out.
     */
    public static List<Integer> liveServers(Path tmpDir) {
        return liveServers(tmpDir, DEFAULT_SOCKET);
    }

    /** As above, for socket {@code name} (a name, never a path: root finds every user's). */
    public static List<Integer> liveServers(Path tmpDir, String name) {
        List<Integer> uids = new ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> dirs = Files.newDirectoryStream(tmpDir, "tmux-*")) {
            for (Path dir : dirs) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) continue;
                int uid;
                try {
                    uid = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    continue;
                }
                Path socket = socketOf(tmpDir, name, uid);
                if (!socket.getParent().equals(dir)) continue; // tmux insists its dir belongs to the uid it is named for
                SocketState state = probeSocket(socket, uid);
                if (state == SocketState.UNANSWERED) Log.warn("uid %d: %s does not answer; its user is not saved this run", uid, socket);
                if (state == SocketState.LIVE) uids.add(uid);
            }
        } catch (IOException e) {
            Log.warn("cannot list %s to find tmux servers: %s", tmpDir, e.getMessage());
        }
        return uids;
    }

    public SocketState socketState() {
        return probeSocket(socket(), account.uid());
    }

    /** Whether a server listens on {@code uid}'s socket; connecting is harmless and needs no fork. */
    public static SocketState probeSocket(Path socket, int uid) {
        return probeSocket(socket, uid, PROBE_DEADLINE);
    }

    static SocketState probeSocket(Path socket, int uid, Duration deadline) {
        try {
            PosixFileAttributes a = Files.readAttributes(socket, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            int owner = (Integer) Files.getAttribute(socket, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (!a.isOther() || owner != uid) return SocketState.SUSPECT;
        } catch (NoSuchFileException e) {
            return SocketState.ABSENT;
        } catch (IOException e) {
            return SocketState.SUSPECT;
        }
        return connect(socket, deadline);
    }

    /**
     * A blocking connect, in a daemon thread, given up after {@code deadline}: closing the
     * channel wakes the blocked connect. (A non-blocking connect would not wait at all: on a
     * full backlog Linux answers EAGAIN at once, and a busy server deserves its deadline.)
     */
    private static SocketState connect(Path socket, Duration deadline) {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            return SocketState.SUSPECT;
        }
        FutureTask<SocketState> attempt = new FutureTask<>(() -> {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return SocketState.LIVE;
            } catch (AsynchronousCloseException e) {
                return SocketState.UNANSWERED; // we gave up and closed it
            } catch (IOException e) {
                return SocketState.STALE; // refused: nobody listens
            }
        });
        Thread t = new Thread(attempt, "t3-socket-probe");
        t.setDaemon(true);
        t.start();
        try {
            return attempt.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return SocketState.UNANSWERED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return SocketState.UNANSWERED;
        } catch (ExecutionException e) {
            return SocketState.STALE;
        } finally {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

    /** Every session with its active pane's pid, or why there are none. */
    public Listing listSessions() {
        switch (socketState()) {
            case ABSENT: return new Listing(Status.NO_SERVER, List.of(), socket().toString());
            case STALE: return new Listing(Status.STALE_SOCKET, List.of(), socket().toString());
            case UNANSWERED: return new Listing(Status.TIMED_OUT, List.of(),
                    socket() + " did not accept a connection within " + PROBE_DEADLINE.toMillis() + " ms");
            case SUSPECT: return new Listing(Status.FAILED, List.of(), socket() + " is not a socket owned by uid " + account.uid() + "; not touching it");
            default: break;
        }
        // One call lists every pane with its window and session; paths come from /proc.
        Exec.Result r = run("list-panes", "-a", "-F", LISTING);
        if (r.timedOut()) return new Listing(Status.TIMED_OUT, List.of(), "after " + timeout.toMillis() + " ms");
        // A cut listing would save a snapshot missing sessions: keep the last one instead.
        if (r.truncated()) return new Listing(Status.FAILED, List.of(), "tmux printed more than " + Exec.MAX_OUT + " bytes");
        if (!r.ok()) {
            String why = r.firstErrorLine();
            boolean gone = why.startsWith("no server running") || why.startsWith("error connecting");
            // list-panes -a on a server without a session (exit-empty off) has no target to start from.
            if (why.startsWith("no current target")) return new Listing(Status.NO_SESSIONS, List.of(), "");
            return new Listing(gone ? Status.STALE_SOCKET : Status.FAILED, List.of(), why);
        }
        Listing l = parseListing(r.out());
        return new Listing(l.sessions().isEmpty() ? Status.NO_SESSIONS : Status.OK, l.sessions(), "", l.panes(),
                l.server() == null ? null : l.server().in(BOOT));
    }

    /**
     * The listing's format: one line a pane, tab-separated. A session's name never holds a tab
     * or a newline (tmux escapes them); a window's given with -n may hold both, so it comes last
     * and a line that does not start as a pane's line continues the name before it.
     */
    static final String LISTING = String.join("\t", "#{session_id}", "#{session_created}", "#{window_index}", "#{window_active}",
            "#{window_zoomed_flag}", "#{automatic-rename}", "#{window_layout}", "#{pane_index}", "#{pane_active}", "#{pane_pid}", "#{pane_id}",
            "#{start_time}", "#{pid}", "#{cursor_x}", "#{cursor_y}", "#{session_name}", "#{window_name}");
    private static final java.util.regex.Pattern PANE_LINE = java.util.regex.Pattern.compile("^\\$\\d+\t");

    /** Sessions in tmux's order, each with its active window's active pane's pid, and every pane. */
    static Listing parseListing(String out) {
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n", -1)) {
            if (PANE_LINE.matcher(line).find() || lines.isEmpty()) lines.add(line);
            else lines.set(lines.size() - 1, lines.get(lines.size() - 1) + "\n" + line);
        }
        if (!lines.isEmpty() && out.endsWith("\n")) {
            String last = lines.get(lines.size() - 1); // the listing's own final newline ends the last name
            lines.set(lines.size() - 1, last.substring(0, last.length() - 1));
        }
        java.util.Map<String, Session> sessions = new java.util.LinkedHashMap<>();
        List<LivePane> panes = new ArrayList<>();
        Server server = null;
        for (String line : lines) {
            String[] f = line.split("\t", 17);
            if (f.length < 17) continue;
            if (server == null) server = Server.parse(f[12] + "@" + f[11]).orElse(null);
            // A dead pane has no pid: nothing to resolve, but the session is kept.
            int pid = number(f[9], -1), window = number(f[2], -1), index = number(f[7], -1);
            boolean windowActive = f[3].equals("1"), active = f[8].equals("1");
            java.time.Instant created;
            try {
                created = java.time.Instant.ofEpochSecond(Long.parseLong(f[1]));
            } catch (NumberFormatException e) {
                created = java.time.Instant.EPOCH;
            }
            sessions.putIfAbsent(f[0], new Session(f[0], f[15], -1, created));
            if (windowActive && active) sessions.put(f[0], new Session(f[0], f[15], pid, created));
            if (window >= 0 && index >= 0) {
                panes.add(new LivePane(f[0], window, f[16], f[5].equals("1"), f[6], windowActive, f[4].equals("1"), index, f[10], pid, active, f[11],
                        f[15], number(f[13], 0), number(f[14], 0)));
            }
        }
        return new Listing(Status.OK, new ArrayList<>(sessions.values()), "", panes, server);
    }

    private static int number(String s, int otherwise) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    /**
     * The name to give new-session so that the session ends up named {@code literal}: tmux 3.3a
     * escapes what it is given (vis(3): a backslash becomes \\, a tab \t), so undo that first.
     */
    static String creationName(String literal) {
        if (literal.indexOf('\\') < 0) return literal;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        byte[] in = literal.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            byte b = in[i];
            if (b != '\\' || i + 1 >= in.length) {
                bytes.write(b);
                continue;
            }
            byte c = in[++i];
            if (c >= '0' && c <= '7' && i + 2 < in.length && isOctal(in[i + 1]) && isOctal(in[i + 2])) {
                bytes.write(((c - '0') << 6) | ((in[i + 1] - '0') << 3) | (in[i + 2] - '0'));
                i += 2;
                continue;
            }
            switch (c) {
                case 't': bytes.write('\t'); break;
                case 'n': bytes.write('\n'); break;
                case 'r': bytes.write('\r'); break;
                case 'a': bytes.write(7); break;
                case 'b': bytes.write('\b'); break;
                case 'f': bytes.write('\f'); break;
                case 'v': bytes.write(11); break;
                case 's': bytes.write(' '); break;
                default: bytes.write(c); break;
            }
        }
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }

    /** Runs one tmux command as the user, against the user's default socket; every argument is data. */
    public Exec.Result run(String... args) {
        return run(false, args);
    }

    /** Runs several tmux commands in one call (tmux's own "a ; b"), e.g. to set an option as the server starts. */
    @SafeVarargs
    public final Exec.Result runAll(List<String>... commands) {
        return run(false, List.of(commands));
    }

    /** Runs a list of tmux commands in one call; tmux stops at the first that fails. */
    public Exec.Result runCommands(List<List<String>> commands) {
        return run(false, commands);
    }

    /**
     * A session to create: its literal name, where, its environment, the argv its pane runs, and
     * its first window's name as tmux held it (null: tmux names it after its program) and size.
     */
    public record NewSession(String name, Path cwd, Map<String, String> env, List<String> command, String windowName, int width, int height) {
        public NewSession(String name, Path cwd, Map<String, String> env, List<String> command) {
            this(name, cwd, env, command, null, 200, 50);
        }
    }

    /** A session tmux made: its id, its first window's index, its first pane's id and process, the name tmux gave it, and on which server. */
    public record Created(String sessionId, int window, String paneId, int panePid, String name, Server server) {
        public Created(String sessionId, int window, String paneId, int panePid, String name) {
            this(sessionId, window, paneId, panePid, name, null);
        }
    }

    /** What became of one NewSession: made ({@code created}), or why not ({@code error}). */
    public record Outcome(NewSession wanted, Created created, String error) {
        public boolean ok() { return created != null; }
    }

    /** The error of a session never asked for: the server stopped answering before its turn. */
    public static final String NOT_TRIED = "not tried: tmux stopped answering";

    /** Sessions created in one tmux call: thousands of sessions cost a few calls, not one each. */
    private static final int BATCH = 64;
    private static final String CREATED = "#{pane_id} #{pane_pid} #{session_id} #{window_index} #{pid} #{start_time} #{session_name}";

    /**
     * Creates detached sessions with a real size (a detached pane can come up 1 column wide), each
     * running its command as an argv: tmux execs it directly, no shell sees the data. Many go in
     * one tmux call; tmux stops a call at the first command that fails, so the rest are tried
     * again after it. When this starts the user's server and PID 1 is systemd, the server gets a
     * scope of its own under the user's slice, so it outlives the oneshot unit that started it.
     */
    public List<Outcome> newSessions(List<NewSession> wanted) {
        List<Outcome> out = new ArrayList<>();
        int next = 0;
        while (next < wanted.size()) {
            List<NewSession> batch = wanted.subList(next, Math.min(wanted.size(), next + BATCH));
            List<List<String>> commands = new ArrayList<>();
            for (NewSession n : batch) commands.add(newSessionCommand(n));
            boolean startsServer = socketState() != SocketState.LIVE;
            Exec.Result r = run(startsServer && Systemd.isPid1(), commands);
            List<String> lines = r.out().lines().toList();
            int made = 0;
            for (; made < batch.size() && made < lines.size(); made++) {
                String[] f = lines.get(made).split(" ", 7);
                try {
                    out.add(new Outcome(batch.get(made), new Created(f[2], Integer.parseInt(f[3]), f[0], Integer.parseInt(f[1]), f.length > 6 ? f[6] : "",
                            Server.parse(f[4] + "@" + f[5]).map(x -> x.in(BOOT)).orElse(null)), null));
                } catch (RuntimeException e) {
                    out.add(new Outcome(batch.get(made), null, "tmux said '" + lines.get(made) + "'"));
                }
            }
            if (made == batch.size()) {
                next += made;
                continue;
            }
            // The command after the last one tmux made is the one that failed; the rest go again.
            String error = r.timedOut() ? "tmux timed out" : r.ok() ? "tmux made no session" : r.firstErrorLine();
            out.add(new Outcome(batch.get(made), null, error));
            next += made + 1;
            if (hung()) {
                for (NewSession n : wanted.subList(next, wanted.size())) out.add(new Outcome(n, null, NOT_TRIED));
                break;
            }
        }
        return out;
    }

    /** One session, as newSessions makes them; the result's output is "pane_id pane_pid session_id window_index server_pid server_start name". */
    public Exec.Result newSession(String name, Path cwd, Map<String, String> env, List<String> command) {
        boolean startsServer = socketState() != SocketState.LIVE;
        return run(startsServer && Systemd.isPid1(), List.of(newSessionCommand(new NewSession(name, cwd, env, command))));
    }

    private static List<String> newSessionCommand(NewSession n) {
        List<String> head = new ArrayList<>(List.of("new-session", "-d", "-P", "-F", CREATED,
                "-s", literal(creationName(n.name())), "-x", Integer.toString(n.width()), "-y", Integer.toString(n.height())));
        if (n.windowName() != null) head.addAll(List.of("-n", literal(n.windowName()))); // -n keeps a name as given
        return new PaneSpec(n.cwd(), n.env(), n.command()).command(head);
    }

    /**
     * What a pane t3 starts runs, and where: its cwd, its environment, its argv. Every command that
     * starts a pane (new-session, new-window, split-window, respawn-pane) takes it the same way:
     * tmux execs the argv directly, so no shell sees the data.
     */
    public record PaneSpec(Path cwd, Map<String, String> env, List<String> argv) {
        /** {@code head} (the command and its own flags), then {@code -c DIR [-e K=V]... -- ARGV}. */
        public List<String> command(List<String> head) {
            List<String> args = new ArrayList<>(head);
            args.addAll(List.of("-c", literal(cwd.toString())));
            env.forEach((k, v) -> args.addAll(List.of("-e", k + "=" + v)));
            args.add("--");
            args.addAll(argv);
            return args;
        }
    }

    /** A pane tmux made in a window of its own: its id, process, window index, and the key it is known by ({@code %id@server-start}). */
    public record NewPane(String id, int pid, int window, String key) {}

    /** What became of a new window: its pane, or why there is none. */
    public record NewWindow(NewPane pane, String error) {
        public boolean ok() { return pane != null; }
    }

    private static final String NEW_WINDOW = "#{pane_id} #{pane_pid} #{window_index} #{start_time}";

    /** A window of its own in session {@code sessionId} (the first free index), detached, running {@code spec}. */
    public NewWindow newWindow(String sessionId, PaneSpec spec) {
        Exec.Result r = run(spec.command(List.of("new-window", "-d", "-P", "-F", NEW_WINDOW, "-t", sessionId + ":")).toArray(String[]::new));
        String[] f = r.out().strip().split(" ");
        if (!r.ok() || f.length < 4) return new NewWindow(null, r.timedOut() ? "tmux timed out" : r.ok() ? "tmux said '" + r.out().strip() + "'" : r.firstErrorLine());
        try {
            return new NewWindow(new NewPane(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]), f[0] + "@" + f[3]), null);
        } catch (NumberFormatException e) {
            return new NewWindow(null, "tmux said '" + r.out().strip() + "'");
        }
    }

    /** Every live pane, from the one listing (heal's world), or null when there is no server or tmux would not list them. */
    public List<LivePane> listPanes() {
        Listing l = listSessions();
        if (l.status() == Status.OK) return l.panes();
        if (l.status() == Status.NO_SESSIONS) return List.of();
        if (l.status() != Status.NO_SERVER && l.status() != Status.STALE_SOCKET) {
            Log.warn("%s: tmux list-panes failed: %s (%s)", account.name(), l.status().words, l.detail());
        }
        return null;
    }

    /** The text of one line of a pane's screen (0 is the top), or null when tmux would not say. */
    public String screenLine(String paneId, int y) {
        String line = capture(paneId, "-S", Integer.toString(y), "-E", Integer.toString(y));
        return line == null ? null : line.replaceFirst("\n$", "");
    }

    /** What a pane (or a session's active pane, by id: a name may hold ':' or '.') shows, or null. */
    public String screen(String target) {
        return capture(target);
    }

    /**
     * The last {@code lines} lines of a pane's history, colours kept and wrapped lines joined
     * (what a restore prints back), trailing blank lines dropped; null when tmux would not say or
     * the capture was cut (Exec's bound keeps its start, not the end the user saw last).
     */
    public String history(String paneId, int lines) {
        Exec.Result r = run("capture-pane", "-p", "-e", "-J", "-S", "-" + lines, "-t", paneId);
        if (!r.ok() || r.truncated()) return null;
        return r.out().replaceFirst("\\s+$", "") + "\n";
    }

    /** The pane id in a live pane's key ({@code %id@server-start}). */
    public static String paneIdOf(String key) {
        return key.split("@", 2)[0];
    }

    private String capture(String target, String... range) {
        List<String> args = new ArrayList<>(List.of("capture-pane", "-p", "-t", target));
        args.addAll(List.of(range));
        Exec.Result r = run(args.toArray(String[]::new));
        return r.ok() ? r.out() : null;
    }

    /**
     * Replaces what runs in pane {@code paneId} with {@code command} (an argv, as for new-session):
     * the same pane, window and session, the same pane id, in {@code cwd}.
     */
    public Exec.Result respawnPane(String paneId, PaneSpec spec) {
        return run(spec.command(List.of("respawn-pane", "-k", "-t", paneId)).toArray(String[]::new));
    }

    /** The process pane {@code paneId} runs now (after a respawn: the new one); empty when tmux would not say. */
    public java.util.OptionalInt panePid(String paneId) {
        Exec.Result r = run("display-message", "-p", "-t", paneId, "#{pane_pid}");
        try {
            return r.ok() ? java.util.OptionalInt.of(Integer.parseInt(r.out().strip())) : java.util.OptionalInt.empty();
        } catch (NumberFormatException e) {
            return java.util.OptionalInt.empty();
        }
    }

    /** What became of an Enter meant for a pane at its gate. */
    public enum Press { PRESSED, HELD, FAILED }

    /**
     * Presses Enter in pane {@code paneId} only while it is the pane whose process is {@code pid},
     * in no mode (copy mode, a chooser would take the key), its input on, its window not
     * synchronized (the key would go to every pane of it): decided by tmux itself, in the one call
     * that presses. HELD: one of those was not so (logged, with what tmux said).
     */
    public Press pressEnterAtGate(String paneId, int pid) {
        String ok = "#{&&:#{==:#{pane_pid}," + pid + "},#{&&:#{==:#{pane_in_mode},0},#{&&:#{==:#{pane_input_off},0},#{!=:#{synchronize-panes},1}}}}";
        Exec.Result r = run("if-shell", "-F", "-t", paneId, ok, "send-keys -t " + paneId + " Enter",
                "display-message -p -t " + paneId + " 'held: pid #{pane_pid}, in mode #{pane_in_mode}, input off #{pane_input_off}, synchronized #{synchronize-panes}'");
        if (!r.ok()) {
            Log.info("%s: could not press Enter in pane %s: %s", account.name(), paneId, r.timedOut() ? "tmux timed out" : r.firstErrorLine());
            return Press.FAILED;
        }
        if (r.out().startsWith("held:")) {
            Log.info("%s: Enter not pressed in pane %s, made for process %d: tmux says %s", account.name(), paneId, pid, r.out().strip());
            return Press.HELD;
        }
        return Press.PRESSED;
    }

    /** Says {@code message} on her client {@code client} (the status line), as text: {@link #menuText}. */
    public Exec.Result tell(String client, String message) {
        return run("display-message", "-c", client, menuText(message));
    }

    /**
     * Text for a message or a menu item, which tmux reads as a format: one line (control
     * characters shown as '?'), '#' doubled so nothing in it is a format, and never a leading
     * '-' (a menu reads that as "disabled").
     */
    public static String menuText(String text) {
        StringBuilder b = new StringBuilder(text.length());
        // Control characters (C0, DEL, C1) and the bidi overrides that would reorder what she reads.
        text.codePoints().forEach(c -> b.appendCodePoint(c < 0x20 || c >= 0x7f && c <= 0x9f || c >= 0x202a && c <= 0x202e
                || c >= 0x2066 && c <= 0x2069 ? '?' : c));
        String safe = literal(b.toString());
        return safe.startsWith("-") || safe.isEmpty() ? " " + safe : safe;
    }

    /**
     * Shows a menu ({@code display-menu} arguments). tmux's client waits until the menu closes,
     * so a menu on screen is one still open after a moment ({@link Exec.Result#timedOut}: it is
     * left open; killing the waiting client leaves the menu and its items working). One that
     * returns at once was not drawn: an error, or (exit 0) tmux 3.3a draws none that does not fit.
     */
    public Exec.Result showMenu(List<String> args) {
        return Exec.run(command(false, List.of(args)), MENU_DRAWN);
    }

    /** How long a drawn menu keeps tmux's client waiting, at least: a menu that was not drawn returns far sooner. */
    private static final Duration MENU_DRAWN = Duration.ofMillis(1500);

    /** A client's width and height, or null when tmux does not know the client. */
    public int[] clientSize(String client) {
        Exec.Result r = run("display-message", "-p", "-c", client, "#{client_width} #{client_height}");
        String[] f = r.out().strip().split(" ");
        if (!r.ok() || f.length != 2) return null;
        try {
            return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A client's name as tmux gives it (#{client_name}: its terminal's path); nothing else is taken. */
    public static boolean validClient(String client) {
        return client != null && client.matches("/dev/[A-Za-z0-9/._-]{1,100}") && !client.contains("..");
    }

    /** tmux expands formats in -s and -c ("#h" becomes the host name): "##" keeps a '#' literal. */
    public static String literal(String s) {
        return s.replace("#", "##");
    }

    private Exec.Result run(boolean ownScope, String... args) {
        return run(ownScope, List.of(List.of(args)));
    }

    /** Puts {@code data} in the server's paste buffer {@code name} (through tmux's standard input: no size limit of a command line). */
    public Exec.Result loadBuffer(String name, byte[] data) {
        return run(false, List.of(List.of("load-buffer", "-b", name, "-")), data);
    }

    private Exec.Result run(boolean ownScope, List<List<String>> commands) {
        return run(ownScope, commands, null);
    }

    /** Runs commands in one tmux call, separated as tmux separates them (a lone ";"). */
    private Exec.Result run(boolean ownScope, List<List<String>> commands, byte[] input) {
        List<List<List<String>>> calls = fitted(commands);
        if (calls.size() == 1) return runOnce(ownScope, commands, input);
        // One call after another, stopping at the first that fails, as tmux does within one call.
        StringBuilder out = new StringBuilder();
        Exec.Result r = null;
        for (int i = 0; i < calls.size(); i++) {
            r = runOnce(ownScope && i == 0, calls.get(i), input);
            out.append(r.out());
            if (!r.ok()) break;
        }
        return new Exec.Result(r.exit(), out.toString(), r.err(), r.timedOut(), r.truncated());
    }

    /**
     * tmux sends a call's arguments to its server as one message and refuses one over 16 KiB
     * ("command too long"): twenty restored panes, each with its script, pass that. Commands go
     * in calls of at most this many bytes (a single larger command goes alone, and tmux says so).
     */
    static final int MAX_CALL = 12 * 1024;

    /** {@code commands} in calls that tmux takes whole. */
    static List<List<List<String>>> fitted(List<List<String>> commands) {
        List<List<List<String>>> calls = new ArrayList<>();
        List<List<String>> call = new ArrayList<>();
        int bytes = 0;
        for (List<String> c : commands) {
            int size = 2; // the ";" between commands
            for (String a : c) size += arg(a).getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1;
            if (!call.isEmpty() && bytes + size > MAX_CALL) {
                calls.add(call);
                call = new ArrayList<>();
                bytes = 0;
            }
            call.add(c);
            bytes += size;
        }
        calls.add(call);
        return calls;
    }

    /** The argv of one tmux call: as the user, on her socket, the commands separated as tmux separates them (a lone ";"). */
    private List<String> command(boolean ownScope, List<List<String>> commands) {
        List<String> cmd = new ArrayList<>(asUser(ownScope));
        cmd.add("tmux");
        cmd.addAll(socketOptions());
        for (int i = 0; i < commands.size(); i++) {
            if (i > 0) cmd.add(";");
            for (String a : commands.get(i)) cmd.add(arg(a));
        }
        return cmd;
    }

    private Exec.Result runOnce(boolean ownScope, List<List<String>> commands, byte[] input) {
        if (hung) return new Exec.Result(-1, "", "not asked: " + account.name() + "'s tmux did not answer earlier in this run", true);
        long left = budgetEnd - System.nanoTime();
        if (left <= 0) return new Exec.Result(-1, "", "not asked: the " + budget.toSeconds() + " s budget for " + account.name() + " is spent", true);
        List<String> cmd = command(ownScope, commands);
        Duration deadline = timeout.toNanos() < left ? timeout : Duration.ofNanos(left);
        Exec.Result r = input == null ? Exec.run(cmd, deadline) : Exec.run(cmd, deadline, input);
        if (r.timedOut()) hung = true;
        return r;
    }

    /**
     * tmux splits its command line at every argument that ENDS in ';' (a name "a;", a path "x;"),
     * even within one command: "\;" keeps the semicolon part of the argument.
     */
    static String arg(String a) {
        return a.endsWith(";") ? a.substring(0, a.length() - 1) + "\\;" : a;
    }

    /**
     * The prefix that runs a command as the user with a clean environment: setpriv execs (no
     * lingering parent, so a timeout kills tmux itself), env -i drops root's variables. With
     * {@code ownScope}, systemd-run first puts it in a new scope under user-UID.slice (in
     * single-user mode, under her user manager, when one answers).
     * setsid puts it in a session of its own, without root's controlling terminal: a process of
     * the user's holding root's terminal could push keystrokes into it (TIOCSTI). setsid execs
     * too: it forks only when its caller leads a process group, which a child we spawn never does.
     */
    public List<String> asUser(boolean ownScope) {
        List<String> cmd = new ArrayList<>();
        String unit = "--unit=t3-tmux-" + account.name() + "-" + System.currentTimeMillis();
        if (ownScope && Accounts.isRoot()) {
            cmd.addAll(List.of("systemd-run", "--scope", "--quiet", "--collect", "--slice=user-" + account.uid() + ".slice", unit, "--"));
        } else if (ownScope && Mode.current().userManager() && Mode.current().inUserManager()) {
            // Single-user mode, run by one of her units: her own manager's scope, so the server outlives the unit.
            cmd.addAll(List.of("systemd-run", "--user", "--scope", "--quiet", "--collect", unit, "--"));
        }
        cmd.add("setsid");
        if (Accounts.currentUid() != account.uid()) {
            // setpriv rather than systemd-run --uid: it also gives the user's supplementary groups.
            cmd.addAll(List.of("setpriv", "--reuid=" + account.uid(), "--regid=" + account.gid(), "--init-groups", "--"));
        }
        cmd.addAll(List.of("env", "-i",
                "HOME=" + account.home(), "USER=" + account.name(), "LOGNAME=" + account.name(),
                "SHELL=" + account.shell(), "PATH=" + DEFAULT_PATH, "LANG=C.UTF-8",
                "TMUX_TMPDIR=" + tmpDir));
        if (!Accounts.isRoot() && Accounts.currentUid() == account.uid()) {
            // One person's own server: what says where her files are (and her manager's bus) stays hers, so
            // the plugin's keys, and panes, find what her runs by hand find.
            for (String v : OWN_VARIABLES) {
                String value = System.getenv(v);
                if (value != null && value.startsWith("/")) cmd.add(v + "=" + value);
            }
        }
        return cmd;
    }
}
