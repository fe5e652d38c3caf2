package base;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the killers that are not the kernel wrote to this boot's journal: earlyoom's kills (one
 * process each: pid, uid, name), systemd-oomd's (a whole cgroup, named by path) and
 * systemd-coredump's record of a process that crashed. Each is believed only from the unit
 * journald itself says wrote it ({@code _SYSTEMD_UNIT}, a field no sender can set): anyone may
 * log a line that looks like earlyoom's, nobody but earlyoom.service logs from that unit.
 */
public final class KillerJournal {
    /** A process earlyoom sent a signal to (SIGTERM first, SIGKILL when memory stays short). */
    public record Kill(Instant time, int pid, int uid, String task, String signal) {}

    /** A cgroup systemd-oomd killed (SIGKILL to every process in it, with no SIGTERM first). */
    public record CgroupKill(Instant time, String cgroup, String why) {}

    /** A process systemd-coredump recorded: it died of {@code signal} (SIGSEGV, SIGABRT, ...). */
    public record Coredump(Instant time, int pid, int uid, String task, String signal) {}

    public record Lines(List<Kill> kills, List<CgroupKill> cgroupKills, List<Coredump> coredumps) {
        public static final Lines NONE = new Lines(List.of(), List.of(), List.of());
    }

    static final String EARLYOOM = "earlyoom.service";
    static final String OOMD = "systemd-oomd.service";
    static final String COREDUMP_UNIT = "systemd-coredump@";
    /** systemd's SD_MESSAGE_COREDUMP. */
    static final String COREDUMP_MESSAGE = "fc2e22bc6ee647b6b90729ab34a250b1";

    // 1.7: sending SIGKILL to process 1234 uid 1000 "tmux: server": badness 900, VmRSS 1234 MiB
    // 1.8: sending SIGTERM to process 1234 uid 1000 "tmux: server": oom_score 823, VmRSS 79 MiB, cmdline "..."
    private static final Pattern EARLYOOM_KILL = Pattern.compile("^sending (SIGTERM|SIGKILL) to process (\\d+) uid (\\d+) \"(.{0,16}?)\": (?:badness|oom_score) .*");
    // 252-257: Killed /user.slice/.../app.scope due to memory pressure for /user.slice/... being 59.83% > 50.00% for > 20s with reclaim activity
    // later:   Marked /user.slice/.../app.scope for killing due to memory used (...) ...
    private static final Pattern OOMD_KILL = Pattern.compile("^(?:Killed|Marked) (/\\S*) (?:for killing )?due to (.+)$");

    private KillerJournal() {}

    /**
     * This boot's entries of those three, from journalctl (root reads the system's journal; one
     * person without adm or systemd-journal sees only her own, where systemd-coredump writes hers).
     * None where no journal runs or it cannot be read: then no such evidence is known.
     */
    public static Lines read() {
        Exec.Result r = Exec.run(List.of("journalctl", "--boot", "--output=json", "--no-pager", "--quiet",
                "_SYSTEMD_UNIT=" + EARLYOOM, "+", "_SYSTEMD_UNIT=" + OOMD, "+", "MESSAGE_ID=" + COREDUMP_MESSAGE), Duration.ofSeconds(10));
        if (r.timedOut()) {
            Log.warn("journalctl took over 10 s: earlyoom's, systemd-oomd's and systemd-coredump's records are not read this run");
            return Lines.NONE;
        }
        return r.exit() == 0 ? parse(r.out()) : Lines.NONE;
    }

    /** The entries of journalctl's {@code --output=json} text (one object a line); a line that does not read is no evidence. */
    public static Lines parse(String json) {
        List<Kill> kills = new ArrayList<>();
        List<CgroupKill> cgroups = new ArrayList<>();
        List<Coredump> cores = new ArrayList<>();
        for (String line : json.split("\n")) {
            if (line.isBlank()) continue;
            try {
                JsonNode e = Json.MAPPER.readTree(line);
                String unit = e.path("_SYSTEMD_UNIT").asText("");
                String message = e.path("MESSAGE").isTextual() ? e.path("MESSAGE").asText() : "";
                Instant time = Instant.EPOCH.plusNanos(Long.parseLong(e.path("__REALTIME_TIMESTAMP").asText("0")) * 1000);
                if (unit.equals(EARLYOOM)) {
                    Matcher m = EARLYOOM_KILL.matcher(message);
                    if (m.matches()) kills.add(new Kill(time, Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), m.group(4), m.group(1)));
                } else if (unit.equals(OOMD)) {
                    Matcher m = OOMD_KILL.matcher(message);
                    if (m.matches()) cgroups.add(new CgroupKill(time, m.group(1), m.group(2)));
                } else if (unit.startsWith(COREDUMP_UNIT) && COREDUMP_MESSAGE.equals(e.path("MESSAGE_ID").asText(""))) {
                    cores.add(new Coredump(time, Integer.parseInt(e.path("COREDUMP_PID").asText()), Integer.parseInt(e.path("COREDUMP_UID").asText()),
                            e.path("COREDUMP_COMM").asText(""), e.path("COREDUMP_SIGNAL_NAME").asText("signal " + e.path("COREDUMP_SIGNAL").asText("?"))));
                }
            } catch (java.io.IOException | RuntimeException x) {
                // not an entry we read
            }
        }
        return new Lines(kills, cgroups, cores);
    }
}
