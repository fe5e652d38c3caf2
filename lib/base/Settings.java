package base;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every knob, read once from the environment (the units set them; /etc/default/t3-tmux may too).
 * Each knob's name, default and meaning live here only: --help prints them from {@link #KNOBS}.
 */
public record Settings(Mode mode, Path userMap, Path stateDir, Path tmuxTmpDir, String tmuxSocket, Duration tmuxTimeout,
                       Map<String, String> assistantCommands, int keep, Duration keepFor, int healMax, Duration healWindow,
                       Duration lockWait, Duration userBudget, Resume resume, List<String> programs, Scrollback scrollback,
                       long keepConversations, Path metricsDir) {

    /**
     * How a restore resumes conversations: eagerly (pressing each pane's Enter itself) or not at
     * all (lazy: each waits for its user), at most {@code concurrency} claude starting at once,
     * none while available memory is below {@code minFree} (bytes, or a percentage of MemTotal),
     * and for at most {@code maxWait}; what is left waits for its user's Enter. One user's start
     * at a time, {@code userGap} after her last got going: her assistants share one login.
     */
    public record Resume(boolean lazy, int concurrency, String minFree, Duration maxWait, Duration userGap) {
        public Resume(boolean lazy, int concurrency, String minFree, Duration maxWait) {
            this(lazy, concurrency, minFree, maxWait, Duration.ofSeconds(3));
        }
    }

    /**
     * Saving what panes showed: the last {@code lines} lines of each (0: off), at most
     * {@code paneBytes} a pane and {@code userBytes} a user (the rest of a flood is cut off, oldest first).
     */
    public record Scrollback(int lines, int paneBytes, long userBytes) {
        public boolean on() { return lines > 0; }
    }

    /** One environment variable: its name, its default, and what it means (for --help). */
    public record Knob(String name, String fallback, String meaning) {}

    public static final Knob USER_MAP = new Knob("T3_USER_MAP", "/etc/ttyd-user-map",
            "the roster: lines <auth>=<os_user>[:<cwd>]");
    public static final Knob STATE_DIR = new Knob("T3_STATE_DIR", "/var/lib/t3-tmux-state",
            "snapshots and their history, root-only (single-user mode: ${XDG_STATE_HOME:-~/.local/state}/t3-tmux, hers only)");
    public static final Knob TMUX_TMPDIR = new Knob("T3_TMUX_TMPDIR", "/tmp", "the TMUX_TMPDIR users' servers run with (single-user mode: her TMUX_TMPDIR)");
    public static final Knob TMUX_SOCKET = new Knob("T3_TMUX_SOCKET", "default",
            "the tmux server looked after: a socket name (tmux -L NAME) in <tmpdir>/tmux-<uid>/, or in single-user mode a socket path (tmux -S PATH)");
    public static final Knob TMUX_TIMEOUT = new Knob("T3_TMUX_TIMEOUT", "5", "seconds one tmux call may take");
    public static final Knob ASSISTANT = new Knob("T3_<NAME>", "its name",
            "the command an assistant is resumed with, on the user's login PATH (T3_CLAUDE for claude; <NAME>: the assistant's, upper case)");
    public static final Knob ASSISTANT_ARGS = new Knob("T3_<NAME>_ARGS", "", "extra arguments for it, split on white space");
    public static final Knob KEEP = new Knob("T3_KEEP", "200", "the newest snapshots kept per user, at least");
    public static final Knob KEEP_DAYS = new Knob("T3_KEEP_DAYS", "30", "and every snapshot younger than this (days)");
    public static final Knob HEAL_MAX = new Knob("T3_HEAL_MAX", "3", "times one conversation is healed within the window, then left alone");
    public static final Knob HEAL_WINDOW = new Knob("T3_HEAL_WINDOW", "60", "that window (minutes)");
    public static final Knob LOCK_WAIT = new Knob("T3_LOCK_WAIT", "10", "seconds to wait for another run holding the state dir's lock");
    public static final Knob USER_BUDGET = new Knob("T3_USER_BUDGET", "60", "seconds all tmux calls for one user may take in one run");
    public static final Knob RESUME = new Knob("T3_RESUME", "eager", "eager: a restore resumes conversations within the budget below; lazy: each waits for its Enter");
    public static final Knob RESUME_CONCURRENCY = new Knob("T3_RESUME_CONCURRENCY", "cores", "claude processes starting at once, at most (cores: the CPU count)");
    public static final Knob RESUME_MIN_FREE = new Knob("T3_RESUME_MIN_FREE", "25%", "no resume while MemAvailable is below this (N% of MemTotal, or N MiB)");
    public static final Knob RESUME_WAIT = new Knob("T3_RESUME_WAIT", "300", "seconds a restore spends starting conversations; the rest wait for Enter");
    public static final Knob RESUME_USER_GAP = new Knob("T3_RESUME_USER_GAP", "3",
            "seconds between one user's starts, each once the one before is under way (they share one login, which many starts at once can log out)");
    // Not watch: it runs its argument through sh -c, so a restore would run that command again by itself.
    public static final Knob RESTORE_PROGRAMS = new Knob("T3_RESTORE_PROGRAMS", "vim nvim vi emacs nano less more man htop top tail",
            "programs a pane running them comes back running again, with their arguments (anything else: a shell)");
    public static final Knob SCROLLBACK = new Knob("T3_SCROLLBACK", "0",
            "lines of each pane's history saved (root-only) and shown again in its restored pane; 0: off");
    public static final Knob SCROLLBACK_MAX = new Knob("T3_SCROLLBACK_MAX", "256",
            "KiB of saved screen a pane, at most; 16 times this a user");
    public static final Knob KEEP_CONVERSATIONS_MAX = new Knob("T3_KEEP_CONVERSATIONS_MAX", "1024",
            "MiB of conversation files kept per user (root-only) against their assistant's own cleanup, for as long as a kept snapshot names them; 0: off");
    public static final Knob METRICS_DIR = new Knob("T3_METRICS_DIR", "",
            "where each run writes its Prometheus metrics (t3-tmux-<run>.prom) for node_exporter's textfile collector; unset: none");
    public static final List<Knob> KNOBS = List.of(USER_MAP, STATE_DIR, TMUX_TMPDIR, TMUX_SOCKET, TMUX_TIMEOUT, USER_BUDGET, ASSISTANT, ASSISTANT_ARGS,
            RESTORE_PROGRAMS, SCROLLBACK, SCROLLBACK_MAX, RESUME, RESUME_CONCURRENCY, RESUME_MIN_FREE, RESUME_WAIT, RESUME_USER_GAP, KEEP, KEEP_DAYS,
            KEEP_CONVERSATIONS_MAX, HEAL_MAX, HEAL_WINDOW, LOCK_WAIT, METRICS_DIR);

    public static Settings fromEnvironment() {
        Mode mode = Mode.current();
        if (mode.system()) return from(System.getenv(), mode);
        // One person: her settings file under her own variables, so runs by hand, by her units and by the plugin agree.
        Map<String, String> env = new java.util.HashMap<>(settingsFile(mode.settingsFile()));
        env.putAll(System.getenv());
        return from(env, mode);
    }

    private static final java.util.regex.Pattern SETTING_LINE = java.util.regex.Pattern.compile("\\s*(T3_[A-Z0-9_]+)\\s*=\\s*(.*?)\\s*");

    /**
     * The T3_* lines of a settings file ({@code KEY=VALUE}, '#' comments, a value in quotes
     * unquoted, as systemd's EnvironmentFile= reads them); none when it is missing or unreadable.
     */
    public static Map<String, String> settingsFile(Path file) {
        Map<String, String> out = new java.util.HashMap<>();
        try {
            if (!java.nio.file.Files.isRegularFile(file) || java.nio.file.Files.size(file) > 65536) return out;
            for (String line : java.nio.file.Files.readAllLines(file)) {
                java.util.regex.Matcher m = SETTING_LINE.matcher(line);
                if (!m.matches()) continue;
                String v = m.group(2);
                if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) v = v.substring(1, v.length() - 1);
                out.put(m.group(1), v);
            }
        } catch (java.io.IOException | RuntimeException e) {
            Log.warn("cannot read your settings file %s (%s); going on without it", file, e.getMessage());
        }
        return out;
    }

    /** The settings {@code env} gives in this process's mode. */
    public static Settings from(Map<String, String> env) {
        return from(env, Mode.current());
    }

    /** The settings {@code env} gives; what a knob leaves unsaid, {@code mode} says (root's paths, or one person's). */
    public static Settings from(Map<String, String> env, Mode mode) {
        return new Settings(
                mode,
                Path.of(get(env, USER_MAP)),
                Path.of(orElse(env, STATE_DIR, mode.stateDir().toString())),
                Path.of(orElse(env, TMUX_TMPDIR, mode.tmuxTmpDir())),
                socket(env, mode),
                Duration.ofMillis((long) (number(env, TMUX_TIMEOUT, 0.001, 3600) * 1000)),
                assistantCommands(env),
                (int) number(env, KEEP, 1, 1_000_000),
                Duration.ofSeconds((long) (number(env, KEEP_DAYS, 0, 36500) * 86400)),
                (int) number(env, HEAL_MAX, 0, 1000),
                Duration.ofSeconds((long) (number(env, HEAL_WINDOW, 1, 100000) * 60)),
                Duration.ofMillis((long) (number(env, LOCK_WAIT, 0, 86400) * 1000)),
                Duration.ofMillis((long) (number(env, USER_BUDGET, 0.001, 86400) * 1000)),
                new Resume(oneOf(env, RESUME, "eager", "lazy").equals("lazy"),
                        get(env, RESUME_CONCURRENCY).equals("cores") ? Runtime.getRuntime().availableProcessors() : (int) number(env, RESUME_CONCURRENCY, 1, 10000),
                        memory(env, RESUME_MIN_FREE),
                        Duration.ofMillis((long) (number(env, RESUME_WAIT, 0, 86400) * 1000)),
                        Duration.ofMillis((long) (number(env, RESUME_USER_GAP, 0, 3600) * 1000))),
                programs(env, RESTORE_PROGRAMS),
                scrollback((int) number(env, SCROLLBACK, 0, 100_000), (int) number(env, SCROLLBACK_MAX, 1, 1024)),
                (long) (number(env, KEEP_CONVERSATIONS_MAX, 0, 16L << 20) * (1 << 20)),
                metricsDir(env));
    }

    /** T3_&lt;NAME&gt; and T3_&lt;NAME&gt;_ARGS as set (the assistants' names are theirs: read on asking, by {@link #command}). */
    private static Map<String, String> assistantCommands(Map<String, String> env) {
        Map<String, String> out = new java.util.TreeMap<>();
        env.forEach((k, v) -> {
            if (k.matches("T3_[A-Z0-9_]+") && v != null && !v.isBlank()) out.put(k, v.strip());
        });
        return out;
    }

    /**
     * The command that resumes assistant {@code name}: T3_&lt;NAME&gt; (default: the name, found on
     * the user's login PATH), then T3_&lt;NAME&gt;_ARGS split on white space.
     */
    public List<String> command(String name) {
        String knob = commandKnob(name);
        List<String> argv = new ArrayList<>(List.of(assistantCommands.getOrDefault(knob, name)));
        String args = assistantCommands.getOrDefault(knob + "_ARGS", "");
        if (!args.isEmpty()) argv.addAll(List.of(args.split("\\s+")));
        return argv;
    }

    /** The setting that names assistant {@code name}'s command: T3_CLAUDE for claude. */
    public static String commandKnob(String name) {
        return "T3_" + name.toUpperCase(java.util.Locale.ROOT).replace('-', '_');
    }

    /** Program names (no path): a word of letters, digits, '.', '_', '+' or '-' each. */
    private static List<String> programs(Map<String, String> env, Knob k) {
        String v = env.getOrDefault(k.name(), k.fallback()).strip(); // set but empty: no program comes back
        List<String> names = v.isEmpty() ? List.of() : List.of(v.split("\\s+"));
        for (String n : names) {
            if (!n.matches("[A-Za-z0-9._+-]+")) {
                throw new IllegalArgumentException(k.name() + " is a list of program names separated by spaces (vim less), not '" + n + "'");
            }
        }
        return names;
    }

    private static Scrollback scrollback(int lines, int kib) {
        return new Scrollback(lines, kib << 10, 16L * (kib << 10));
    }

    /** The environment section of every script's --help, defaults included. */
    public static List<String> help() {
        List<String> lines = new ArrayList<>(List.of("", "Environment (the units read overrides from /etc/default/t3-tmux):"));
        for (Knob k : KNOBS) {
            String line = String.format("  %-16s %s [%s]", k.name(), k.meaning(), k.fallback().isEmpty() ? "none" : k.fallback());
            lines.add(line.replace("%", "%%")); // picocli formats help text: a '%' of ours must stay one
        }
        return lines;
    }

    private static double number(Map<String, String> env, Knob k, double min, double max) {
        String s = get(env, k);
        try {
            double v = Double.parseDouble(s);
            if (v >= min && v <= max && (min > 0 || v >= 0)) return v;
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(k.name() + " must be a number from " + fmt(min) + " to " + fmt(max) + ", not '" + s + "'");
    }

    private static String oneOf(Map<String, String> env, Knob k, String... allowed) {
        String v = get(env, k);
        if (List.of(allowed).contains(v)) return v;
        throw new IllegalArgumentException(k.name() + " must be one of " + String.join(", ", allowed) + ", not '" + v + "'");
    }

    /** "N%" (of MemTotal) or "N" MiB, checked here so a typo is a bad setting, not a silent zero. */
    private static String memory(Map<String, String> env, Knob k) {
        String v = get(env, k);
        if (v.matches("(100|[1-9]?[0-9])%") || v.matches("\\d{1,9}")) return v;
        throw new IllegalArgumentException(k.name() + " must be a percentage of MemTotal (25%) or MiB (2048), not '" + v + "'");
    }

    /** The bytes {@code minFree} stands for on a machine with {@code memTotal} bytes. */
    public static long bytes(String minFree, long memTotal) {
        return minFree.endsWith("%") ? memTotal / 100 * Long.parseLong(minFree.substring(0, minFree.length() - 1))
                : Long.parseLong(minFree) << 20;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    /**
     * A socket name (tmux -L: letters, digits, '.', '_', '-'), or in single-user mode an absolute
     * path (tmux -S). Root drives every user's server: a path would name one socket for all.
     */
    private static String socket(Map<String, String> env, Mode mode) {
        String v = get(env, TMUX_SOCKET);
        if (v.matches("[A-Za-z0-9._-]{1,100}") && !v.startsWith(".")) return v;
        if (v.startsWith("/") && !mode.system() && !v.contains("\n")) return Path.of(v).normalize().toString();
        throw new IllegalArgumentException(TMUX_SOCKET.name() + " must be a socket name (letters, digits, '.', '_', '-')"
                + (mode.system() ? "" : " or an absolute path") + ", not '" + v + "'"
                + (mode.system() && v.startsWith("/") ? ": a path names one socket, and root looks after every user's; use a name" : ""));
    }

    /** T3_METRICS_DIR: an absolute path, or none. */
    private static Path metricsDir(Map<String, String> env) {
        String v = get(env, METRICS_DIR);
        if (v.isEmpty()) return null;
        if (!v.startsWith("/") || v.indexOf('\0') >= 0) throw new IllegalArgumentException(METRICS_DIR.name() + " must be an absolute path (node_exporter's textfile directory), not '" + v + "'");
        return Path.of(v).normalize();
    }

    /** The knob's value, or {@code fallback} (a default that depends on the mode) when unset. */
    private static String orElse(Map<String, String> env, Knob k, String fallback) {
        String v = env.get(k.name());
        return v == null || v.isBlank() ? fallback : v.strip();
    }

    private static String get(Map<String, String> env, Knob k) {
        String v = env.get(k.name());
        return v == null || v.isBlank() ? k.fallback() : v.strip();
    }
}
