///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Bench
//SOURCES ../lib/**.java
//SOURCES support/Children.java
//SOURCES support/Repo.java
//SOURCES support/TestUsers.java

import base.Accounts;
import base.Exec;
import save.Inventory;
import base.Procfs;
import base.Settings;
import tmux.Tmux;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a save and a boot restore cost, next to the floor of the same work. As root: throwaway
 * users (default 20) with real tmux servers on a private TMUX_TMPDIR, each with N sessions
 * (default 25), a third of them running the fake claude. Prints figures; asserts nothing.
 *
 *   ./jbang tests/bench.java [USERS [SESSIONS_PER_USER]]     e.g. 2 5 for a quick run
 *
 * Every user it made is removed at the end, whatever happened.
 */
class T3Bench {
    static final int RUNS = 5;

    public static void main(String[] args) throws Exception {
        if (!Accounts.isRoot()) {
            System.out.println("bench: needs root (it makes throwaway users with real tmux servers)");
            System.exit(2);
        }
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int perUser = args.length > 1 ? Integer.parseInt(args[1]) : 25;
        int total = users * perUser;
        try (TestUsers tu = new TestUsers()) {
            run(tu, users, perUser, total);
        }
    }

    static void run(TestUsers tu, int users, int perUser, int total) throws Exception {
        System.out.printf("t3-tmux bench, %s: %d users x %d sessions (%d), a third running the fake claude%n", Instant.now(), users, perUser, total);
        System.out.printf("machine: %d cores, %s, load %s%n", Runtime.getRuntime().availableProcessors(), memTotal(), load());

        // The fixture.
        List<Accounts.Account> accounts = new ArrayList<>();
        for (int u = 0; u < users; u++) accounts.add(tu.create());
        int claudes = 0;
        for (Accounts.Account a : accounts) {
            for (int i = 0; i < perUser; i++) {
                boolean claude = i % 3 == 0;
                if (claude) claudes++;
                tu.newSession(a, "s" + i, a.home(), claude ? tu.claude() : null);
            }
        }
        int wantClaudes = claudes;
        if (!Children.waitFor(() -> liveRecords(accounts) >= wantClaudes, Duration.ofSeconds(60)))
            System.out.printf("  (only %d of %d fake claudes started)%n", liveRecords(accounts), wantClaudes);
        System.out.printf("fixture: %d sessions, %d running claude; %d processes on this machine%n%n", total, liveRecords(accounts), Procfs.read().size());

        Path tmp = tu.dir;
        Path map = tmp.resolve("user-map");
        StringBuilder lines = new StringBuilder();
        for (Accounts.Account a : accounts) lines.append(a.name()).append('=').append(a.name()).append('\n');
        Files.writeString(map, lines);
        Map<String, String> env = new HashMap<>(Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", tmp.resolve("state").toString(),
                "T3_TMUX_TMPDIR", tu.tmuxTmp.toString(), "T3_CLAUDE", tu.bin.resolve("claude").toString()));

        // Save: whole runs, and the floor (one /proc read, one tmux listing per user).
        // Warm-up, as on a machine where the units have run: builds if needed, the first snapshots,
        // and each script's class data archive (recorded by one run, installed by the next).
        Timed first = script("t3-save.java", env);
        if (first.exit != 0) System.out.println("  first save exited " + first.exit + ": " + first.err);
        script("t3-save.java", env);
        script("t3-restore.java", env, "--dry-run");
        script("t3-restore.java", env, "--dry-run");
        // A B A B: each save without metrics, then one writing them (T3_METRICS_DIR), on the same machine state.
        Map<String, String> withMetrics = new HashMap<>(env);
        withMetrics.put("T3_METRICS_DIR", Files.createDirectories(tmp.resolve("metrics")).toString());
        script("t3-save.java", withMetrics);
        List<Timed> saves = new ArrayList<>(), metricSaves = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            saves.add(script("t3-save.java", env));
            metricSaves.add(script("t3-save.java", withMetrics));
        }
        List<Timed> starts = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) starts.add(script("t3-save.java", env, "--version"));
        // The floor replays the very commands a save's inventory runs (the save's own tmux listing,
        // whichever call that is), recorded from Inventory itself, so it follows any change to it.
        Procfs now = Procfs.read();
        List<List<String>> calls = new ArrayList<>();
        Settings asSaved = settings(tu);
        for (Accounts.Account a : accounts) calls.addAll(Exec.recording(() -> Inventory.take(a, Tmux.of(a, asSaved), now, asSaved.programs())));
        String listing = calls.stream().map(T3Bench::tmuxCall).distinct().reduce((x, y) -> x + ", " + y).orElse("nothing");
        double[] procMs = new double[RUNS], listMs = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            Procfs.read();
            long t1 = System.nanoTime();
            for (List<String> call : calls) Exec.run(call, Duration.ofSeconds(10));
            procMs[i] = (t1 - t0) / 1e6;
            listMs[i] = (System.nanoTime() - t1) / 1e6;
        }
        double saveFloor = median(procMs) + median(listMs);

        // Restore from dead servers: every fixture process killed (a reboot, as far as they know).
        killAll(accounts);
        Set<Integer> uids = new HashSet<>();
        accounts.forEach(a -> uids.add(a.uid()));
        Map<Integer, Path> sessionsDir = new HashMap<>();
        accounts.forEach(a -> sessionsDir.put(a.uid(), a.home().resolve(".claude/sessions")));
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger peak = new AtomicInteger();
        AtomicLong samples = new AtomicLong();
        // The watchers are light (a /proc walk that reads only the fixture users' processes; a
        // tmux call only for a user whose server is up): on 2 cores a full /proc read every 50 ms
        // and a tmux call per user every 20 ms took about a core from the restore they measure.
        Thread sampler = new Thread(() -> {
            while (!done.get()) {
                int starting = 0;
                for (int[] p : claudes(uids)) {
                    if (!Files.exists(sessionsDir.get(p[1]).resolve(p[0] + ".json"))) starting++;
                }
                peak.accumulateAndGet(starting, Math::max);
                samples.incrementAndGet();
                sleep(50);
            }
        });
        AtomicLong attachableAt = new AtomicLong(-1);
        List<Double> userAttachable = java.util.Collections.synchronizedList(new ArrayList<>());
        long restoreStart = System.nanoTime();
        Thread poller = new Thread(() -> {
            // A fresh Tmux per call: one instance stops asking a server after a timeout or its budget.
            Set<Accounts.Account> waiting = new HashSet<>(accounts);
            while (!waiting.isEmpty() && !done.get()) {
                waiting.removeIf(a -> {
                    // Until the restore reaches her, her socket is the dead server's: nothing to ask yet.
                    if (Tmux.probeSocket(Tmux.socketOf(tu.tmuxTmp, a.uid()), a.uid()) != Tmux.SocketState.LIVE) return false;
                    if (sessions(tu, a) < perUser) return false;
                    userAttachable.add((System.nanoTime() - restoreStart) / 1e9);
                    return true;
                });
                if (waiting.isEmpty()) attachableAt.set(System.nanoTime());
                else sleep(20);
            }
        });
        sampler.start();
        poller.start();
        Timed restore = script("t3-restore.java", env);
        double restoreEnd = (System.nanoTime() - restoreStart) / 1e9;
        poller.join(60_000);
        done.set(true);
        sampler.join();
        if (restore.exit != 0) System.out.println("  restore exited " + restore.exit + ": " + restore.err);
        int back = 0;
        for (Accounts.Account a : accounts) back += sessions(tu, a);
        int resumed = liveRecords(accounts);

        // The floor of creating them: one tmux new-session per session, nothing else.
        killAll(accounts);
        long c0 = System.nanoTime();
        for (Accounts.Account a : accounts) {
            for (int i = 0; i < perUser; i++) tu.newSession(a, "s" + i, a.home(), null);
        }
        double createFloor = (System.nanoTime() - c0) / 1e6;

        Timed save = medianOf(saves), start = medianOf(starts);
        String budget = System.getenv().getOrDefault("T3_RESUME_CONCURRENCY", "cores = " + Runtime.getRuntime().availableProcessors());
        System.out.printf("%-44s %-30s %s%n", "", "whole run", "floor");
        System.out.printf("%-44s %-30s %s%n", "save (median of " + RUNS + ")", save.figures(),
                String.format("%.0f ms (one /proc read %.0f ms + %d calls, tmux %s, %.0f ms)", saveFloor, median(procMs), calls.size(), listing, median(listMs)));
        System.out.printf("%-44s %-30s%n", "  cached start (t3-save.java --version)", start.figures());
        Timed metricSave = medianOf(metricSaves);
        System.out.printf("%-44s %-30s %s%n", "  save writing metrics (T3_METRICS_DIR)", metricSave.figures(),
                String.format("%+.1f%% over the save without (target: at most +5%%)", 100.0 * (metricSave.wallMs - save.wallMs) / save.wallMs));
        System.out.printf("%-44s %-30s %s%n", "  save / (cached start + floor)", String.format("%.2fx", save.wallMs / (start.wallMs + saveFloor)), "target: 1.5x");
        System.out.printf("%-44s %-30s %s%n", "restore of " + total + " from dead servers", restore.figures(),
                String.format("%.0f ms (%d tmux new-session, one call each)", createFloor, total));
        System.out.printf("%-44s %s%n", "  every session attachable after",
                attachableAt.get() < 0 ? "never (within the restore + 60 s)" : String.format("%.2f s (target: 3 s)", (attachableAt.get() - restoreStart) / 1e9));
        if (!userAttachable.isEmpty()) {
            double[] t = userAttachable.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf("%-44s first %.2f s, median %.2f s, last %.2f s%n", "  a user's sessions all attachable after", t[0], median(t), t[t.length - 1]);
        }
        System.out.printf("%-44s %d (budget: %s; %d samples, every ~50 ms)%n", "  claude starting at once, peak", peak.get(), budget, samples.get());
        System.out.printf("%-44s %d of %d sessions back, %d of %d conversations running; the restore exited after %.2f s%n",
                "  after the restore", back, total, resumed, wantClaudes, restoreEnd);
        restore.log().lines().filter(l -> l.contains("sessions back")).findFirst().ifPresent(l -> System.out.println("  restore's log, first user: " + l.strip()));
    }

    /** The tmux command in a recorded argv (after setsid, setpriv and env's prefix), for the floor's label. */
    static String tmuxCall(List<String> argv) {
        int i = argv.indexOf("tmux");
        return i >= 0 && i + 1 < argv.size() ? argv.get(i + 1) : String.join(" ", argv);
    }

    /** One whole run of a script as an operator runs it (./jbang), timed by /usr/bin/time: wall, and CPU of it and its children. */
    record Timed(int exit, double wallMs, double cpuMs, String err, String log) {
        String figures() {
            return String.format("wall %.2f s, cpu %.2f s", wallMs / 1000, cpuMs / 1000);
        }
    }

    static Timed script(String script, Map<String, String> env, String... args) throws IOException {
        Path times = Files.createTempFile("t3-bench", ".time");
        try {
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/time", "-f", "%e %U %S", "-o", times.toString(),
                    Repo.ROOT.resolve("jbang").toString(), "--quiet", Repo.ROOT.resolve(script).toString()));
            cmd.addAll(List.of(args));
            Children.Ran r = Children.run(cmd, env, Repo.ROOT, Duration.ofMinutes(10));
            List<String> lines = Files.readAllLines(times);
            String[] f = lines.get(lines.size() - 1).trim().split(" ");
            return new Timed(r.exit(), r.took().toNanos() / 1e6, (Double.parseDouble(f[1]) + Double.parseDouble(f[2])) * 1000,
                    r.err().lines().filter(l -> l.contains("ERROR") || l.contains("WARN")).limit(5).toList().toString(), r.all());
        } finally {
            Files.deleteIfExists(times);
        }
    }

    static Timed medianOf(List<Timed> runs) {
        double[] wall = runs.stream().mapToDouble(Timed::wallMs).toArray(), cpu = runs.stream().mapToDouble(Timed::cpuMs).toArray();
        return new Timed(0, median(wall), median(cpu), "", "");
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static Settings settings(TestUsers tu) {
        try {
            return Settings.from(Map.of("T3_TMUX_TMPDIR", tu.tmuxTmp.toString()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** How many sessions the user's server lists now (0 when it does not answer). */
    static int sessions(TestUsers tu, Accounts.Account a) {
        Exec.Result r = tu.tmux(a).run("list-sessions", "-F", "#{session_name}");
        return r.ok() ? (int) r.out().lines().count() : 0;
    }

    /** The pids (with their uids) of the claude processes of these uids: /proc/PID/comm read only for their processes. */
    static List<int[]> claudes(Set<Integer> uids) {
        List<int[]> out = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path d : ds) {
                try {
                    int uid = (Integer) Files.getAttribute(d, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    if (uids.contains(uid) && Files.readString(d.resolve("comm")).strip().equals("claude"))
                        out.add(new int[] {Integer.parseInt(d.getFileName().toString()), uid});
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Every process of every fixture user, SIGKILLed: their servers die as in a crash (stale sockets). */
    static void killAll(List<Accounts.Account> accounts) throws InterruptedException {
        for (Accounts.Account a : accounts) {
            for (int i = 0; i < 50 && TestUsers.pkill("-KILL", a) == 0; i++) Thread.sleep(50);
        }
    }

    /** Running (fake) claudes of the fixture users that have written their live record (a killed one leaves a stale record). */
    static int liveRecords(List<Accounts.Account> accounts) {
        Map<Integer, Path> home = new HashMap<>();
        accounts.forEach(a -> home.put(a.uid(), a.home()));
        int n = 0;
        for (Procfs.Proc p : Procfs.read().all()) {
            Path h = home.get(p.uid());
            if (h != null && p.comm().equals("claude") && Files.exists(h.resolve(".claude/sessions/" + p.pid() + ".json"))) n++;
        }
        return n;
    }

    static String memTotal() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " ");
    }

    static String load() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
