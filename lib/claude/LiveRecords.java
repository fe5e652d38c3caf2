package claude;

import base.Json;
import base.Accounts;
import base.ConversationId;
import base.Log;
import base.Procfs;
import base.UserFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * claude's live records, {@code <config>/sessions/<pid>.json}: one per running interactive
 * claude, naming its conversation, start ticks ({@code procStart}) and tmux pane. claude removes
 * its record when it exits (/exit, SIGTERM, SIGHUP); SIGKILL (the OOM killer) leaves it behind.
 * A record whose process is gone is therefore the evidence of a crash, and the only one.
 */
public final class LiveRecords {
    /**
     * One record. {@code pane} is the tmux pane id (%N) claude ran in, null when it ran outside
     * tmux; {@code written} the file's mtime.
     */
    public record Record(Path file, int pid, long procStart, String conversation, Path cwd, String pane, Instant written, String kind) {
        public Record(Path file, int pid, long procStart, String conversation, Path cwd, String pane, Instant written) {
            this(file, pid, procStart, conversation, cwd, pane, written, null);
        }

        /** Names this record among all others: a pid with its start ticks never repeats within a boot. */
        public String key() { return pid + ":" + procStart; }

        /**
         * A conversation in a terminal (kind "interactive", or no kind: claude before 2.1.330). A
         * background agent's record ("bg", its spares included) is none: no pane's conversation,
         * and no crash of one (FACTS).
         */
        public boolean interactive() { return kind == null || kind.equals("interactive"); }

        /** The config root it lives in: {@code <config>/sessions/<pid>.json}. */
        public Path config() { return file.getParent().getParent(); }
    }

    private static final ObjectMapper JSON = Json.MAPPER;
    public static final int MAX_RECORD = 64 * 1024;
    private static final Pattern PANE = Pattern.compile("(%\\d+)$");
    private static final Pattern FILE = Pattern.compile("\\d{1,9}\\.json");

    /** More live records than any machine runs claudes: past this, the directory is being flooded. */
    static final int MAX_FILES = 2000;

    private LiveRecords() {}

    private static volatile long pidMax;

    /** The kernel's pid ceiling, read once (a save asks for every user). */
    private static long pidMax() {
        if (pidMax == 0) pidMax = readPidMax();
        return pidMax;
    }

    private static long readPidMax() {
        try {
            // Not Files.readString: on this file it has been seen to return "3" of "32768".
            return Long.parseLong(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max")).get(0).strip());
        } catch (IOException | RuntimeException e) {
            return 4194304; // the kernel's own ceiling
        }
    }

    /** Parses one record's text; empty when it is not one (torn, foreign, hostile). */
    public static Optional<Record> parse(Path file, String text, Instant written) {
        try {
            JsonNode n = JSON.readTree(text);
            String id = n.path("sessionId").asText();
            String start = n.path("procStart").asText();
            if (!ConversationId.isUuid(id) || !n.path("pid").canConvertToInt() || !start.matches("\\d{1,19}")) return Optional.empty();
            String cwd = n.path("cwd").asText("");
            Matcher pane = PANE.matcher(n.path("tmux").asText(""));
            String kind = n.path("kind").isTextual() ? n.path("kind").asText() : null;
            return Optional.of(new Record(file, n.path("pid").asInt(), Long.parseLong(start), id,
                    cwd.startsWith("/") && cwd.indexOf('\0') < 0 ? Path.of(cwd) : null, pane.find() ? pane.group(1) : null, written, kind));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The record of a running process, when it names that very process (not a recycled pid). */
    public static Optional<Record> of(Path config, Procfs.Proc claude, int uid) {
        return read(config.resolve("sessions").resolve(claude.pid() + ".json"), config, uid)
                .filter(r -> r.pid() == claude.pid() && r.procStart() == claude.startTicks());
    }

    /**
     * The records in {@code config} (a trusted dir of the user) whose process is gone (or whose
     * pid now belongs to another process), written since {@code since} (this boot: a record from
     * before says nothing about panes that exist now).
     */
    public static List<Record> stale(Path config, int uid, Procfs procs, Instant since) {
        List<Record> out = new ArrayList<>();
        Path dir = config.resolve("sessions");
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return out;
        long pidMax = pidMax();
        long uptimeTicks = java.time.Duration.between(procs.bootTime(), Instant.now()).toMillis() * Procfs.CLK_TCK / 1000 + Procfs.CLK_TCK;
        int seen = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path f : ds) {
                if (!FILE.matcher(f.getFileName().toString()).matches()) continue;
                if (Long.parseLong(f.getFileName().toString().replace(".json", "")) > pidMax) continue; // never a process's
                // The directory is the user's: she can fill it. Look at a bounded number, and say so.
                if (++seen > MAX_FILES) {
                    Log.warn("%s holds more than %d live records; looked at the first %d only", dir, MAX_FILES, MAX_FILES);
                    break;
                }
                // From this boot: written since it began, by a process started since (its ticks within the uptime;
                // an mtime alone can pass a clock that moved between boots).
                // Only a conversation in a terminal crashes into a pane: a background agent's record is never evidence.
                read(f, config, uid).filter(Record::interactive).filter(r -> !r.written().isBefore(since) && r.procStart() <= uptimeTicks)
                        .filter(r -> procs.get(r.pid()).map(p -> p.startTicks() != r.procStart()).orElse(true))
                        .ifPresent(out::add);
            }
        } catch (IOException e) {
            // unreadable sessions dir: no evidence from it
        }
        return out;
    }

    /**
     * Records read before, by file, each with the stat it was read under. A save reads every
     * running claude's record to name its conversation, then every record again for evidence of
     * a crash: the second read of a file that is unchanged (same inode, size, mtime and ctime,
     * which no user can set) is a stat, not a walk from / in a reader thread.
     */
    private static final Map<Path, Seen> SEEN = new ConcurrentHashMap<>();
    private static final int MAX_SEEN = 4096;

    private record Seen(List<Object> stat, Path config, int uid, Optional<Record> record) {}

    private static Optional<Record> read(Path file, Path config, int uid) {
        Map<String, Object> a;
        List<Object> stat;
        try {
            a = Files.readAttributes(file, "unix:dev,ino,size,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
            stat = List.of(a.get("dev"), a.get("ino"), a.get("size"), a.get("lastModifiedTime"), a.get("ctime"));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        Seen seen = SEEN.get(file);
        if (seen != null && seen.uid() == uid && seen.config().equals(config) && seen.stat().equals(stat)) return seen.record();
        Instant written = ((FileTime) a.get("lastModifiedTime")).toInstant();
        Optional<Record> r = UserFiles.readPrefix(file, uid, config, MAX_RECORD).flatMap(text -> parse(file, text, written));
        if (SEEN.size() >= MAX_SEEN) SEEN.clear(); // a long-lived JVM (the tests) keeps it bounded
        SEEN.put(file, new Seen(stat, config, uid, r));
        return r;
    }
}
