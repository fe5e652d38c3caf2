package codex;

import base.ConversationId;
import base.Json;
import base.UserFiles;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Codex's conversation files: {@code <home>/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl},
 * whose first line is {@code {"type":"session_meta","payload":{"id","timestamp","cwd","originator",...}}}.
 * The folder and the name's time are in the codex process's local time zone (not root's), so
 * times are read from the first line (UTC); the name's serve to look in the right folders only.
 * Everything here is a user's file: read as one (bounded, no symlink, hers only).
 */
final class Rollouts {
    /** What a rollout's first line says: its thread, when it was created, where, and by what. */
    record Meta(Path file, String id, Instant created, Path cwd, String originator, String threadSource) {
        /** A thread a person started in a TUI: not `codex exec`'s, an IDE's or a sub-agent's. */
        boolean madeInTui() {
            return "codex-tui".equals(originator) && (threadSource == null || threadSource.equals("user"));
        }
    }

    static final Pattern NAME = Pattern.compile("rollout-(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2})-(\\d{2})-(\\d{2})-("
            + "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\\.jsonl");
    /** The first line carries the base instructions after the fields read here: a prefix of it is enough. */
    private static final int HEAD = 64 * 1024;
    /** More names than are looked at in one folder: a flooded folder costs its surplus, not the save. */
    static final int MAX_FILES = 2000;

    private final Path home;
    private final int uid;

    /** The rollouts under {@code home} (a trusted dir of the user {@code uid}). */
    Rollouts(Path home, int uid) {
        this.home = home;
        this.uid = uid;
    }

    /** The id in a rollout's file name, when it is one. */
    static Optional<String> idOf(Path file) {
        Matcher m = NAME.matcher(file.getFileName() == null ? "" : file.getFileName().toString());
        return m.matches() ? Optional.of(m.group(7)) : Optional.empty();
    }

    /** Whether {@code file} is a rollout of this home's (by its path; the caller reads it as the user's). */
    boolean holds(Path file) {
        return file.startsWith(home.resolve("sessions")) && idOf(file).isPresent();
    }

    /** The first line of a rollout of the user's, when it reads as a session_meta of the id its name gives. */
    Optional<Meta> meta(Path file) {
        Optional<String> named = idOf(file);
        if (named.isEmpty()) return Optional.empty();
        return UserFiles.readPrefix(file, uid, home, HEAD).flatMap(text -> parse(file, text))
                .filter(m -> ConversationId.same(m.id(), named.get()));
    }

    /** The session_meta fields of a first line (cut or not: the fields read come before the long ones). */
    static Optional<Meta> parse(Path file, String head) {
        String id = null, created = null, cwd = null, originator = null, type = null, threadSource = null;
        try (JsonParser p = Json.MAPPER.getFactory().createParser(head)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return Optional.empty();
            int depth = 1;
            boolean inPayload = false;
            while (depth > 0 && (id == null || created == null || cwd == null || originator == null || type == null || threadSource == null)) {
                JsonToken t = p.nextToken();
                if (t == null) break;
                if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                    depth++;
                    continue;
                }
                if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                    if (--depth == 1) inPayload = false;
                    continue;
                }
                if (t != JsonToken.FIELD_NAME) continue;
                String field = p.currentName();
                JsonToken v = p.nextToken();
                if (depth == 1 && field.equals("payload") && v == JsonToken.START_OBJECT) {
                    depth++;
                    inPayload = true;
                } else if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                    depth++;
                } else if (depth == 1 && field.equals("type")) {
                    type = p.getValueAsString();
                } else if (inPayload && depth == 2 && v == JsonToken.VALUE_STRING) {
                    switch (field) {
                        case "id": id = p.getText(); break;
                        case "timestamp": created = p.getText(); break;
                        case "cwd": cwd = p.getText(); break;
                        case "originator": originator = p.getText(); break;
                        case "thread_source": threadSource = p.getText(); break;
                        default: break;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // a cut or torn line: what was read before the cut counts
        }
        if (!"session_meta".equals(type) || !ConversationId.isUuid(id) || created == null) return Optional.empty();
        try {
            Path dir = cwd != null && cwd.startsWith("/") && cwd.indexOf('\0') < 0 ? Path.of(cwd) : null;
            return Optional.of(new Meta(file, id, Instant.parse(created), dir, originator, threadSource));
        } catch (java.time.format.DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /**
     * The rollout of thread {@code id}, when it is still under sessions/: looked for in the days
     * its UUIDv7 time names, then ({@code everyDay}: for a restore, not a save) in every day,
     * newest first, at most {@link #MAX_DAYS}.
     */
    Optional<Path> find(String id, boolean everyDay) {
        if (!ConversationId.isUuid(id)) return Optional.empty();
        String suffix = "-" + ConversationId.normal(id) + ".jsonl";
        for (Path day : days(uuidTime(id))) {
            Optional<Path> f = inDay(day, suffix);
            if (f.isPresent()) return f;
        }
        if (!everyDay) return Optional.empty();
        // Not where its id's time says (an id of an older release, a clock that moved).
        for (Path day : allDays()) {
            Optional<Path> f = inDay(day, suffix);
            if (f.isPresent()) return f;
        }
        return Optional.empty();
    }

    /**
     * The rollouts whose thread (by the UUIDv7 time in its name: a thread is made after the TUI
     * starts) was made from {@code from} to {@code to}, in the days around them (any time zone):
     * nothing else is read. At most {@link #MAX_FILES} names a day are looked at.
     */
    List<Path> madeBetween(Instant from, Instant to) {
        List<Path> out = new ArrayList<>();
        for (Path day : days(from)) {
            int seen = 0;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(day, "rollout-*.jsonl")) {
                for (Path f : ds) {
                    if (++seen > MAX_FILES) break;
                    Matcher m = NAME.matcher(f.getFileName().toString());
                    if (!m.matches()) continue;
                    Instant made = uuidTime(m.group(7));
                    if (!made.isBefore(from) && made.isBefore(to)) out.add(f);
                }
            } catch (IOException e) {
                // no such day
            }
        }
        return out;
    }

    private Optional<Path> inDay(Path day, String suffix) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(day, "rollout-*" + suffix)) {
            for (Path f : ds) if (UserFiles.isOwnedRegularFile(f, uid)) return Optional.of(f);
        } catch (IOException e) {
            // no such day
        }
        return Optional.empty();
    }

    /**
     * sessions/YYYY/MM/DD for the day of {@code when} in UTC, the day before and the day after,
     * that are real folders all the way down (root lists no folder of a symlink's choosing).
     */
    private List<Path> days(Instant when) {
        Set<Path> out = new LinkedHashSet<>();
        LocalDate d = when.atOffset(ZoneOffset.UTC).toLocalDate();
        for (LocalDate x : List.of(d, d.minusDays(1), d.plusDays(1))) {
            Path day = home.resolve("sessions").resolve(String.format("%04d/%02d/%02d", x.getYear(), x.getMonthValue(), x.getDayOfMonth()));
            if (realFolders(day)) out.add(day);
        }
        return new ArrayList<>(out);
    }

    /** Whether every folder from sessions/ down to {@code dir} is a folder, none a symlink. */
    private boolean realFolders(Path dir) {
        for (Path p = dir; p.startsWith(home.resolve("sessions")); p = p.getParent()) {
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) return false;
        }
        return true;
    }

    /** Every day's folder, newest first, at most {@link #MAX_DAYS} (a folder named as a year, month or day; no symlink). */
    private List<Path> allDays() {
        List<Path> out = new ArrayList<>();
        for (Path y : newestFirst(home.resolve("sessions"), "\\d{4}")) {
            for (Path m : newestFirst(y, "0[1-9]|1[0-2]")) {
                for (Path day : newestFirst(m, "0[1-9]|[12]\\d|3[01]")) {
                    if (out.size() >= MAX_DAYS) return out;
                    out.add(day);
                }
            }
        }
        return out;
    }

    private static List<Path> newestFirst(Path dir, String named) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return out;
        int seen = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (++seen > MAX_FILES) break;
                if (p.getFileName().toString().matches(named) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) out.add(p);
            }
        } catch (IOException e) {
            // unreadable: nothing from it
        }
        out.sort(java.util.Comparator.reverseOrder());
        return out;
    }

    /** Days looked through for a rollout not where its id's time says: ten years of them. */
    static final int MAX_DAYS = 3660;

    /** The time a UUIDv7 carries (its first 48 bits, ms since the epoch); another UUID's gives some time, and the full walk finds it. */
    static Instant uuidTime(String id) {
        String hex = id.replace("-", "").substring(0, 12);
        return Instant.ofEpochMilli(Long.parseLong(hex, 16));
    }
}
