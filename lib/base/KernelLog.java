package base;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the kernel logged about OOM kills (dmesg, as root): the evidence that a process was
 * killed by memory pressure rather than by someone's choice. A tmux server leaves its socket
 * behind however it ends (kill-server, its last session closed, a crash), so for a server this
 * log is the only thing that tells a crash apart.
 */
public final class KernelLog {
    /** One OOM kill: when, which process (comm, pid) of which uid. */
    public record OomKill(Instant time, int pid, int uid, String task) {}

    /** The comm tmux gives its server process. */
    public static final String TMUX_SERVER = "tmux: server";

    // 2026-11-24T21:14:12,006896+00:00 oom-kill:constraint=...,task=tmux: server,pid=24067,uid=1001
    private static final Pattern OOM = Pattern.compile("^(\\S+) oom-kill:.*,task=(.*),pid=(\\d+),uid=(\\d+)\\s*$");
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss,SSSSSSxxx");

    private KernelLog() {}

    /** Every OOM kill the kernel's ring buffer still holds; none (and a warning) when it cannot be read. */
    public static List<OomKill> oomKills() {
        Exec.Result r = Exec.run(List.of("dmesg", "--kernel", "--time-format=iso"), Duration.ofSeconds(5));
        if (!r.ok()) {
            Log.warn("cannot read the kernel log (dmesg: %s): an OOM-killed tmux server cannot be told from one that exited",
                    r.timedOut() ? "timed out" : r.firstErrorLine());
            return List.of();
        }
        return parse(r.out());
    }

    public static List<OomKill> parse(String dmesg) {
        List<OomKill> out = new ArrayList<>();
        for (String line : dmesg.split("\n")) {
            Matcher m = OOM.matcher(line);
            if (!m.matches()) continue;
            try {
                out.add(new OomKill(OffsetDateTime.parse(m.group(1), ISO).toInstant(), Integer.parseInt(m.group(3)),
                        Integer.parseInt(m.group(4)), m.group(2)));
            } catch (RuntimeException e) {
                // a line we cannot read is no evidence
            }
        }
        return out;
    }
}
