package claude;

import assistant.Assistant;
import assistant.Conversation;
import assistant.Crash;
import assistant.Stored;
import base.Accounts;
import base.ConversationId;
import base.Procfs;
import base.UserFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Claude Code: its process ({@code claude}, {@code claude.exe}, or node running its cli.js), the
 * conversation one runs (live record, then argv, then the one transcript written since it
 * started: {@link Conversations}), its transcripts under {@code <config>/projects/}, {@code claude
 * --resume ID} in the conversation's starting directory, the options worth carrying
 * ({@link ClaudeOptions}), and the evidence SIGKILL leaves: its live record ({@link LiveRecords}).
 */
public final class Claude implements Assistant {
    public static final Claude INSTANCE = new Claude();

    private Claude() {}

    @Override public String name() { return "claude"; }

    @Override public boolean is(Procfs.Proc p) { return Conversations.isClaude(p); }

    @Override public boolean isId(String id) { return ConversationId.isUuid(id); }

    @Override public String homeVariable() { return "CLAUDE_CONFIG_DIR"; }

    @Override public Path defaultHome(Accounts.Account account) { return Conversations.defaultConfig(account); }

    @Override
    public Optional<Conversation> conversation(Procfs procs, Accounts.Account account, Procfs.Proc p) {
        return new Conversations(procs, account).of(p);
    }

    @Override
    public Optional<Stored> stored(Accounts.Account account, Path home, String id) {
        Conversations c = new Conversations(null, account);
        return c.transcript(home, id).map(t -> new Stored(c.startDir(home, id).orElse(null), UserFiles.modified(t)));
    }

    @Override
    public Optional<Path> file(Accounts.Account account, Path home, String id) {
        return new Conversations(null, account).transcript(home, id);
    }

    /** A custom-title line (--name, /rename), else the first prompt, from the head of its transcript. */
    @Override
    public Optional<String> title(Accounts.Account account, Path home, String id) {
        Conversations c = new Conversations(null, account);
        return c.transcript(home, id).flatMap(t -> UserFiles.readPrefix(t, account.uid(), home, 256 * 1024)).flatMap(Conversations::title);
    }

    @Override
    public String gone(Path home) {
        return "transcript no longer exists in " + home + " (claude deletes old ones)";
    }

    @Override public List<String> resumeArgs(String id) { return List.of("--resume", id); }

    @Override public List<String> carried(List<String> argv) { return ClaudeOptions.carried(argv); }

    /** Started once it has written its live record: a claude that fails at once ("No conversation found") runs a few ms first. */
    @Override
    public boolean started(Procfs procs, Accounts.Account account, Procfs.Proc p) {
        return conversation(procs, account, p).map(c -> c.source() == Conversation.Source.RECORD).orElse(false);
    }

    @Override public boolean tellsKillFromExit() { return true; }

    /** A live record whose process is gone: claude removes its record on /exit, SIGTERM and SIGHUP; SIGKILL leaves it. */
    @Override
    public List<Crash> crashes(Procfs procs, Accounts.Account account, Set<Path> homes) {
        List<Crash> out = new ArrayList<>();
        for (Path home : homes) {
            for (LiveRecords.Record r : LiveRecords.stale(home, account.uid(), procs, procs.bootTime())) {
                out.add(new Crash(this, r.pid(), r.procStart(), r.conversation(), r.cwd(), r.pane(), r.written(), r.config(),
                        "its live record " + r.file() + " remains"));
            }
        }
        return out;
    }
}
