///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Bench
//SOURCES ../lib/*.java
//SOURCES support/Children.java
//SOURCES support/Repo.java
//SOURCES support/FakeClaude.java
//DEPS info.picocli:picocli:4.7.7
//DEPS org.zeroturnaround:zt-exec:1.12
//DEPS com.fasterxml.jackson.core:jackson-databind:2.18.2
//DEPS org.slf4j:slf4j-nop:1.7.36

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What a save costs: one user (you) with N tmux sessions on a private socket, half of them
 * running the fake claude. Prints figures; asserts nothing. ./jbang tests/bench.java [N]
 */
class T3Bench {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        Path tmp = Files.createTempDirectory("t3-bench");
        Accounts.Account real = Accounts.byUid(Accounts.currentUid()).orElseThrow();
        Path home = Files.createDirectories(tmp.resolve("home"));
        Accounts.Account me = new Accounts.Account(real.name(), real.uid(), real.gid(), home, real.shell());
        Tmux tmux = new Tmux(me, tmp, Duration.ofSeconds(10));
        try {
            for (int i = 0; i < n; i++) {
                List<String> cmd = i % 2 == 0 ? List.of(Repo.FAKE_CLAUDE.toString()) : List.of("sleep", "600");
                if (!tmux.newSession("s" + i, home, Map.of("HOME", home.toString()), cmd).ok()) throw new IllegalStateException("tmux failed");
            }
            Children.waitFor(() -> count(home) >= n / 2, Duration.ofSeconds(30));
            System.out.printf("%d sessions, %d running a (fake) claude; %d processes on this machine%n", n, count(home), Procfs.read().size());

            System.out.printf("Procfs.read (whole /proc):      %s%n", time(20, () -> Procfs.read()));
            Procfs procs = Procfs.read();
            System.out.printf("tmux list-sessions (as you):    %s%n", time(20, () -> tmux.listSessions()));
            System.out.printf("Inventory.take (list + claims): %s%n", time(10, () -> Inventory.take(me, tmux, procs)));
            System.out.printf("  found %d conversations%n", Inventory.take(me, tmux, procs).withConversation());

            Path map = Files.writeString(tmp.resolve("map"), "me=" + me.name() + "\n");
            Map<String, String> env = Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", tmp.resolve("state").toString(),
                    "T3_TMUX_TMPDIR", tmp.toString(), "HOME", System.getProperty("user.home"));
            Repo.script("t3-save.java", env); // build once
            System.out.printf("./jbang t3-save.java, end to end: %s%n", time(5, () -> Repo.script("t3-save.java", env)));
        } finally {
            tmux.run("kill-server");
            Exec.run(List.of("rm", "-rf", tmp.toString()), Duration.ofSeconds(30));
        }
    }

    static long count(Path home) {
        try (var s = Files.list(home.resolve(".claude/sessions"))) {
            return s.count();
        } catch (Exception e) {
            return 0;
        }
    }

    /** Median and max wall time of {@code runs} runs, in ms. */
    static String time(int runs, Runnable r) {
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            r.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return String.format("median %.1f ms, max %.1f ms (%d runs)", ms[runs / 2], ms[runs - 1], runs);
    }
}
