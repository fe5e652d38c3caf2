package claude;

import assistant.Conversation;
import assistant.Conversation.Source;
import base.Json;
import base.Accounts;
import base.ConversationId;
import base.Procfs;
import base.UserFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which claude conversation a process is running. In order of certainty: the live record
 * {@code <config>/sessions/<pid>.json} whose procStart matches the process (it follows /clear),
 * then argv (stale after /clear), then the one transcript written since the process started.
 */
public final class Conversations {
    private static final ObjectMapper JSON = Json.MAPPER;
    private static final int MAX_TRANSCRIPT_HEAD = 256 * 1024;
    private static final int MAX_SLUG = 200;

    private final Procfs procs;
    private final Accounts.Account account;

    public Conversations(Procfs procs, Accounts.Account account) {
        this.procs = procs;
        this.account = account;
    }

    /** The transcript directory name claude derives from a starting directory (lossy; a cross-check only). */
    public static String slug(String dir) {
        return dir.replaceAll("[^A-Za-z0-9]", "-");
    }

    /** Whether the process is a claude CLI: the native binary, the npm package's claude.exe, or node running its cli.js. */
    public static boolean isClaude(Procfs.Proc p) {
        if (p.comm().equals("claude") || p.comm().equals("claude.exe")) return true;
        if (p.argv().isEmpty()) return false;
        String argv0 = Path.of(p.argv().get(0)).getFileName() == null ? "" : Path.of(p.argv().get(0)).getFileName().toString();
        if (argv0.equals("claude") || argv0.equals("claude.exe")) return true;
        return p.comm().equals("node") && p.argv().stream().anyMatch(a -> a.contains("claude") && a.endsWith("/cli.js"));
    }

    /** The nearest claude process below a pane (the pane's own process included) that runs as the user. */
    public Optional<Procfs.Proc> claudeIn(int panePid) {
        return procs.selfAndDescendants(panePid).stream()
                .filter(p -> p.uid() == account.uid() && isClaude(p))
                .findFirst();
    }

    /** The conversation the claude process runs, by the most certain evidence there is. */
    public Optional<Conversation> of(Procfs.Proc claude) {
        Path configDir = configDir(claude);
        Optional<Path> config = UserFiles.trustedDir(configDir, account.uid());
        Optional<Path> processCwd = procs.cwd(claude.pid());
        if (config.isPresent()) {
            Optional<LiveRecords.Record> live = LiveRecords.of(config.get(), claude, account.uid());
            // A background agent's record: the conversation runs, but no pane holds it.
            if (live.isPresent()) return Optional.of(found(live.get().conversation(), live.get().interactive() ? Source.RECORD : Source.BACKGROUND,
                    config.get(), processCwd));
        }
        Optional<String> fromArgv = fromArgv(claude.argv());
        if (fromArgv.isPresent()) return Optional.of(found(fromArgv.get(), Source.ARGV, config.orElse(configDir), processCwd));
        if (config.isPresent() && processCwd.isPresent()) {
            Optional<String> recent = onlyRecentTranscript(config.get(), processCwd.get(), procs.startTime(claude));
            if (recent.isPresent()) return Optional.of(found(recent.get(), Source.FILE, config.get(), processCwd));
        }
        return Optional.empty();
    }

    /** claude's config root when CLAUDE_CONFIG_DIR is not set: ~user/.claude (a row's '-'). */
    public static Path defaultConfig(Accounts.Account account) {
        return account.home().resolve(".claude");
    }

    /** The process's own CLAUDE_CONFIG_DIR when set and non-empty, else ~user/.claude. */
    Path configDir(Procfs.Proc claude) {
        return Claude.INSTANCE.home(procs, account, claude);
    }

    /** {@code --resume <uuid>}, {@code -r <uuid>}, {@code --session-id <uuid>}, and their {@code =} forms. */
    public static Optional<String> fromArgv(List<String> argv) {
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            String value = null;
            if ((a.equals("--resume") || a.equals("-r") || a.equals("--session-id")) && i + 1 < argv.size()) value = argv.get(i + 1);
            else if (a.startsWith("--resume=")) value = a.substring("--resume=".length());
            else if (a.startsWith("--session-id=")) value = a.substring("--session-id=".length());
            if (ConversationId.isUuid(value)) return Optional.of(value);
        }
        return Optional.empty();
    }

    /** The transcript id in the cwd's project dir written since the process started, only when exactly one fits. */
    Optional<String> onlyRecentTranscript(Path config, Path cwd, Instant since) {
        List<String> candidates = new ArrayList<>();
        for (Path dir : projectDirsFor(config, cwd.toString())) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.jsonl")) {
                for (Path t : ds) {
                    String id = t.getFileName().toString().replaceFirst("\\.jsonl$", "");
                    if (!ConversationId.isUuid(id) || !UserFiles.isOwnedRegularFile(t, account.uid())) continue;
                    // mtime has 1 s granularity on some file systems; start ticks 10 ms: allow a second.
                    if (Files.getLastModifiedTime(t, LinkOption.NOFOLLOW_LINKS).toInstant().isAfter(since.minusSeconds(1))) candidates.add(id);
                }
            } catch (IOException e) {
                // unreadable project dir: no candidate from it
            }
        }
        return candidates.size() == 1 ? Optional.of(candidates.get(0)) : Optional.empty();
    }

    private List<Path> projectDirsFor(Path config, String cwd) {
        String slug = slug(cwd);
        Path projects = config.resolve("projects");
        List<Path> dirs = new ArrayList<>();
        if (slug.length() <= MAX_SLUG) {
            Path d = projects.resolve(slug);
            if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) dirs.add(d);
            return dirs;
        }
        // Past 200 characters claude cuts the slug and appends a hash: match on the cut prefix.
        String prefix = slug.substring(0, MAX_SLUG);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(projects)) {
            for (Path d : ds) if (d.getFileName().toString().startsWith(prefix) && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) dirs.add(d);
        } catch (IOException e) {
            // no projects dir
        }
        return dirs;
    }

    /** The transcript of a conversation, wherever its project dir is: {@code <config>/projects/*\/<uuid>.jsonl}. */
    public Optional<Path> transcript(Path config, String uuid) {
        if (!ConversationId.isUuid(uuid)) return Optional.empty();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(config.resolve("projects"))) {
            for (Path d : ds) {
                Path t = d.resolve(uuid + ".jsonl");
                if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) && UserFiles.isOwnedRegularFile(t, account.uid())) return Optional.of(t);
            }
        } catch (IOException e) {
            // no projects dir
        }
        return Optional.empty();
    }

    /** The conversation's starting directory: the first {@code cwd} its transcript records. */
    public Optional<Path> startDir(Path config, String uuid) {
        return transcript(config, uuid)
                .flatMap(t -> UserFiles.readPrefix(t, account.uid(), config, MAX_TRANSCRIPT_HEAD))
                .flatMap(Conversations::firstCwd);
    }

    static Optional<Path> firstCwd(String jsonl) {
        String[] lines = jsonl.split("\n");
        // The last line of a bounded prefix may be cut: parse only whole lines.
        int whole = jsonl.endsWith("\n") ? lines.length : lines.length - 1;
        for (int i = 0; i < whole; i++) {
            try {
                JsonNode cwd = JSON.readTree(lines[i]).path("cwd");
                if (cwd.isTextual() && cwd.asText().startsWith("/") && cwd.asText().indexOf('\0') < 0) return Optional.of(Path.of(cwd.asText()));
            } catch (IOException e) {
                // a torn or foreign line: skip it
            }
        }
        return Optional.empty();
    }

    /**
     * A transcript head's title: its custom-title line (a name she gave it), else the text of its
     * first user line (a string, or the first text part of its content), one line, at most 80 characters.
     */
    public static Optional<String> title(String jsonl) {
        String[] lines = jsonl.split("\n");
        int whole = jsonl.endsWith("\n") ? lines.length : lines.length - 1;
        String prompt = null;
        for (int i = 0; i < whole; i++) {
            try {
                JsonNode n = JSON.readTree(lines[i]);
                String type = n.path("type").asText();
                if (type.equals("custom-title") && n.path("customTitle").isTextual() && !n.path("customTitle").asText().isBlank()) {
                    return Optional.of(oneLine(n.path("customTitle").asText()));
                }
                if (prompt == null && type.equals("user") && !n.path("isMeta").asBoolean(false)) {
                    String t = text(n.path("message"));
                    // A slash command or a caveat the CLI wrote is no prompt of hers.
                    if (t != null && !t.stripLeading().startsWith("<")) prompt = t;
                }
            } catch (IOException e) {
                // a torn or foreign line: skip it
            }
        }
        return Optional.ofNullable(prompt).filter(p -> !p.isBlank()).map(Conversations::oneLine);
    }

    private static String text(JsonNode message) {
        if (message.isTextual()) return message.asText();
        JsonNode content = message.path("content");
        if (content.isTextual()) return content.asText();
        for (JsonNode part : content) if (part.path("type").asText().equals("text") && part.path("text").isTextual()) return part.path("text").asText();
        return null;
    }

    private static String oneLine(String s) {
        String flat = s.strip().replaceAll("\\s+", " ");
        return flat.length() > 80 ? flat.substring(0, 79) + "\u2026" : flat;
    }

    private Conversation found(String uuid, Source source, Path config, Optional<Path> processCwd) {
        Path start = startDir(config, uuid).or(() -> processCwd).orElse(null);
        return new Conversation(Claude.INSTANCE, uuid, source, start, config);
    }
}
