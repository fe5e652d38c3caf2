package gemini;

import base.ConversationId;
import base.Json;
import base.UserFiles;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Gemini CLI's conversation files: {@code <data>/tmp/<project slug>/chats/session-<UTC minute>-<first 8 of id>.jsonl},
 * made at its start, whose first line is {@code {"sessionId","projectHash":sha256(cwd),"startTime",...,"kind"}};
 * {@code <data>/tmp/<slug>/.project_root} holds the project's directory. A resume leaves a
 * header-only file of the same id beside the conversation's: the conversation is the file of
 * that id that holds more than its header. Everything here is a user's file, read as one.
 */
final class Chats {
    /** A chat file's first line: its session, its project (the sha256 of its directory), when it started. */
    record Header(Path file, String id, String projectHash, Instant started, boolean main) {}

    private static final int HEADER = 16 * 1024;
    /** Enough of a file to see a second line. */
    private static final int TWO_LINES = HEADER + 1;
    /** More projects or chats than are looked at in one go: a flood costs its surplus. */
    static final int MAX_FILES = 2000;

    private final Path data;
    private final int uid;

    /** The chats under {@code data} (the user's trusted {@code .gemini}). */
    Chats(Path data, int uid) {
        this.data = data;
        this.uid = uid;
    }

    /** What Gemini names a project by: the sha256 of its directory, in hex. */
    static String projectHash(Path dir) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(dir.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }

    Optional<Header> header(Path file) {
        return UserFiles.readPrefix(file, uid, data, HEADER).flatMap(text -> parse(file, text));
    }

    static Optional<Header> parse(Path file, String text) {
        int nl = text.indexOf('\n');
        try {
            JsonNode n = Json.MAPPER.readTree(nl < 0 ? text : text.substring(0, nl));
            String id = n.path("sessionId").asText(), hash = n.path("projectHash").asText();
            if (!ConversationId.isUuid(id) || !hash.matches("[0-9a-f]{64}")) return Optional.empty();
            return Optional.of(new Header(file, id, hash, Instant.parse(n.path("startTime").asText()), !n.path("kind").asText("main").equals("subagent")));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** {@code session-<UTC minute>-<8 hex>.jsonl}. */
    static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("session-(\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2})-([0-9a-fA-F]{8})\\.jsonl");

    /** Every chat file, each project's folder in turn; at most {@link #MAX_FILES} names looked at (of any kind: a flood costs its own). */
    List<Path> all() {
        List<Path> out = new ArrayList<>();
        int seen = 0;
        if (!Files.isDirectory(data.resolve("tmp"), LinkOption.NOFOLLOW_LINKS)) return out; // none, or a symlink: root lists no folder it chose
        try (DirectoryStream<Path> projects = Files.newDirectoryStream(data.resolve("tmp"))) {
            for (Path project : projects) {
                if (++seen > MAX_FILES) return out;
                Path chats = project.resolve("chats");
                // Root lists no folder a symlink chose.
                if (Files.isSymbolicLink(project) || !Files.isDirectory(project, LinkOption.NOFOLLOW_LINKS) || !Files.isDirectory(chats, LinkOption.NOFOLLOW_LINKS)) continue;
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(chats)) {
                    for (Path f : ds) {
                        if (++seen > MAX_FILES) return out;
                        if (NAME.matcher(f.getFileName().toString()).matches()) out.add(f);
                    }
                }
            }
        } catch (IOException e) {
            // no tmp folder: no chats
        }
        return out;
    }

    /** The chat files whose name says they began from {@code from} to {@code to} (to the minute): nothing else is read. */
    List<Path> begunBetween(Instant from, Instant to) {
        java.time.format.DateTimeFormatter minute = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm").withZone(java.time.ZoneOffset.UTC);
        String first = minute.format(from), last = minute.format(to);
        return all().stream().filter(f -> {
            java.util.regex.Matcher m = NAME.matcher(f.getFileName().toString());
            return m.matches() && m.group(1).compareTo(first) >= 0 && m.group(1).compareTo(last) <= 0;
        }).toList();
    }

    /** The conversation of id {@code id}: its file that holds more than a header (a resume's stray holds only one). */
    Optional<Header> find(String id) {
        if (!ConversationId.isUuid(id)) return Optional.empty();
        String suffix = "-" + ConversationId.normal(id).substring(0, 8) + ".jsonl";
        for (Path f : all()) {
            if (!f.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(suffix)) continue;
            Optional<Header> h = header(f).filter(x -> ConversationId.same(x.id(), id));
            if (h.isPresent() && moreThanAHeader(f)) return h;
        }
        return Optional.empty();
    }

    private boolean moreThanAHeader(Path file) {
        return UserFiles.readPrefix(file, uid, data, TWO_LINES).map(t -> {
            int nl = t.indexOf('\n');
            return nl >= 0 && nl + 1 < t.length() && !t.substring(nl + 1).isBlank();
        }).orElse(false);
    }

    /** The directory of the project a chat file belongs to: its folder's .project_root, when the hash agrees. */
    Optional<Path> projectRoot(Header h) {
        Path root = h.file().getParent().getParent().resolve(".project_root");
        return UserFiles.readPrefix(root, uid, data, 8192).map(String::strip)
                .filter(s -> s.startsWith("/") && s.indexOf('\0') < 0 && s.indexOf('\n') < 0)
                .map(Path::of).filter(p -> projectHash(p).equals(h.projectHash()));
    }
}
