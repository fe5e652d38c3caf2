package heal;

import store.SavedSession;
import store.SavedPane;
import base.ConversationId;
import store.HealLedger;
import base.Accounts;
import claude.Conversations;
import claude.LiveRecords;
import base.Procfs;
import store.SnapshotFormat;
import tmux.Tmux;
import base.UserFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * What heal does about each crash one user's live server shows: a stale live record (claude
 * killed, its record left behind) whose pane lives on gets the same conversation resumed in
 * that very pane, once its shell is idle. Everything else a user did on purpose leaves no such
 * record and is left alone. Each record is acted on once (the ledger), so an old crash never
 * undoes a later /exit.
 */
public final class HealPlan {
    public enum Action {
        RESUME("resume"), WAIT("wait"), GIVE_UP("give-up"), LEAVE("leave");
        public final String token;
        Action(String token) { this.token = token; }
    }

    /**
     * One crash's fate. {@code record} is the evidence; {@code others} older records of the same
     * conversation, dealt with along with it; {@code pane} where it ran (null when gone); for a
     * resume, where it starts and its config root (null: the default).
     */
    public record Step(LiveRecords.Record record, List<LiveRecords.Record> others, Tmux.LivePane pane, Action action, String why,
                       Path startDir, Path config) {
        public String conversation() { return record.conversation(); }

        /** What becomes of crash {@code r} (and {@code others} of its conversation) in {@code pane}, and why. */
        static Step of(LiveRecords.Record r, List<LiveRecords.Record> others, Tmux.LivePane pane, Action action, String why) {
            return new Step(r, others, pane, action, why, null, null);
        }

        static Step leave(LiveRecords.Record r, List<LiveRecords.Record> others, Tmux.LivePane pane, String why) {
            return of(r, others, pane, Action.LEAVE, why);
        }

        /** A resume, in {@code startDir}, under config root {@code config} (null: the default). */
        Step in(Path startDir, Path config) {
            return new Step(record, others, pane, action, why, startDir, config);
        }
    }

    /** What a plan needs to know of the user's world, read once. */
    public record World(Accounts.Account account, List<Tmux.LivePane> panes, Procfs procs, Conversations conversations,
                        Map<String, String> running, List<SavedSession> newest, Instant newestTime,
                        BiFunction<String, Integer, String> screenLine) {}

    /** Reads what a plan needs of the user's world, once. */
    public static World world(Accounts.Account account, List<Tmux.LivePane> panes, Procfs procs, List<SavedSession> newest,
                              Instant newestTime, BiFunction<String, Integer, String> screenLine) {
        Conversations conversations = new Conversations(procs, account);
        Map<Integer, String> labels = new LinkedHashMap<>();
        panes.forEach(p -> labels.put(p.pid(), "session '" + p.session() + "' (pane " + p.id() + ")"));
        Map<String, String> running = conversations.whereRunning(labels);
        return new World(account, panes, procs, conversations, running, newest, newestTime, screenLine);
    }

    /** The stale live records of this boot in the user's config roots: each a claude that did not exit by itself. */
    public static List<LiveRecords.Record> evidence(World w) {
        return LiveRecords.evidence(w.account(), w.newest(), w.procs());
    }

    /** Characters a prompt ends with: what is left of the cursor line past one of them was typed. */
    // Not '>': that is also the shell's continuation prompt, in the middle of a command.
    private static final String PROMPT_ENDS = "$#%❯»:";

    private HealPlan() {}

    /** The heal limit: a conversation is resumed at most {@code max} times within {@code window}. */
    public record Limit(int max, Duration window) {}

    public static List<Step> plan(World w, List<LiveRecords.Record> stale, HealLedger ledger, int maxHeals, Duration window, Instant now) {
        Limit limit = new Limit(maxHeals, window);
        List<Step> steps = new ArrayList<>();
        java.util.Set<String> panesTaken = new java.util.HashSet<>();
        for (List<LiveRecords.Record> records : newestFirst(stale, ledger).values()) {
            steps.add(step(w, records.get(0), records.subList(1, records.size()), panesTaken, ledger, limit, now));
        }
        return steps;
    }

    /** The records heal has not acted on, by conversation, newest crash first: of two in one pane, or of one conversation, the newest is the one to act on. */
    private static Map<String, List<LiveRecords.Record>> newestFirst(List<LiveRecords.Record> stale, HealLedger ledger) {
        Map<String, List<LiveRecords.Record>> byConversation = new LinkedHashMap<>();
        stale.stream().filter(r -> !ledger.handled(r.key())).sorted(Comparator.comparingLong(LiveRecords.Record::procStart).reversed())
                .forEach(r -> byConversation.computeIfAbsent(ConversationId.normal(r.conversation()), k -> new ArrayList<>()).add(r));
        return byConversation;
    }

    /** What to do about crash {@code r}: first whether its pane is still the one it ran in, then whether it can be resumed there now. */
    private static Step step(World w, LiveRecords.Record r, List<LiveRecords.Record> others, java.util.Set<String> panesTaken, HealLedger ledger,
                             Limit limit, Instant now) {
        String where = w.running().get(ConversationId.normal(r.conversation()));
        if (where != null) return Step.leave(r, others, null, "runs again, in " + where);
        Optional<Tmux.LivePane> pane = paneOf(w, r);
        if (pane.isEmpty()) {
            return Step.leave(r, others, null, r.pane() == null && sessionOf(w, r).isEmpty()
                    ? "it ran outside tmux" : "its pane is gone (the session was closed)");
        }
        Tmux.LivePane p = pane.get();
        if (!panesTaken.add(p.id())) return Step.leave(r, others, p, "a newer crash in pane " + p.id() + " is the one to heal");
        // The save's own rule: a session whose row, saved after this claude started, names another
        // conversation has moved on from this one (the user started another since).
        Optional<SavedSession> row = w.newest().stream().filter(x -> x.session().equals(p.session())).findFirst();
        if (row.isPresent() && row.get().hasConversation() && row.get().conversations().stream().noneMatch(x -> ConversationId.same(x.conversation(), r.conversation()))
                && w.newestTime() != null && w.newestTime().isAfter(r.written())) {
            return Step.leave(r, others, p, "session '" + p.session() + "' has moved on to conversation "
                    + row.get().conversation() + " since");
        }
        Optional<Procfs.Proc> shell = w.procs().get(p.pid());
        // The pane must be the one claude ran in: its process is the user's and older than claude was.
        if (shell.isEmpty() || shell.get().uid() != w.account().uid() || shell.get().startTicks() > r.procStart()) {
            return Step.leave(r, others, p, "pane " + p.id() + " is newer than the crash: not where it ran");
        }
        return resumeIn(w, r, others, p, shell.get(), ledger, limit, now);
    }

    /** Crash {@code r} in its own pane {@code p}: resume it, unless it crash-loops, its transcript or directory is gone, or the pane is busy. */
    private static Step resumeIn(World w, LiveRecords.Record r, List<LiveRecords.Record> others, Tmux.LivePane p, Procfs.Proc shell,
                                 HealLedger ledger, Limit limit, Instant now) {
        long heals = ledger.healsSince(r.conversation(), now.minus(limit.window()));
        if (heals >= limit.max()) {
            return Step.of(r, others, p, Action.GIVE_UP, "killed again after " + heals + " heal(s) within "
                    + limit.window().toMinutes() + " min: memory is short, resuming it again would only feed the OOM killer");
        }
        Optional<Path> config = UserFiles.trustedDir(r.config(), w.account().uid());
        if (config.isEmpty() || w.conversations().transcript(config.get(), r.conversation()).isEmpty()) {
            return Step.leave(r, others, p, "its transcript is gone from " + r.config());
        }
        Optional<Path> start = w.conversations().startDir(config.get(), r.conversation())
                .or(() -> Optional.ofNullable(r.cwd())).filter(d -> java.nio.file.Files.isDirectory(d));
        if (start.isEmpty()) return Step.leave(r, others, p, "its starting directory is gone");
        String busy = busy(w, p, shell);
        if (busy != null) return Step.of(r, others, p, Action.WAIT, busy + "; trying again on the next run");
        Path defaultConfig = Conversations.defaultConfig(w.account());
        boolean isDefault = UserFiles.trustedDir(defaultConfig, w.account().uid()).map(config.get()::equals).orElse(false);
        return Step.of(r, others, p, Action.RESUME, "claude pid " + r.pid() + " was killed (its live record " + r.file() + " remains)")
                .in(start.get(), isDefault ? null : config.get());
    }

    /**
     * Just before acting, read afresh: why the step must wait after all (claude of that pid runs,
     * a claude runs in the pane, the pane is busy now), or null. A run goes user by user while
     * users go on working: what the plan read may be minutes old.
     */
    public static String changedSince(World w, Step st) {
        Procfs now = Procfs.read();
        LiveRecords.Record r = st.record();
        if (now.get(r.pid()).map(p -> p.startTicks() == r.procStart()).orElse(false)) return "claude pid " + r.pid() + " runs after all";
        Optional<Procfs.Proc> shell = now.get(st.pane().pid());
        if (shell.isEmpty() || shell.get().uid() != w.account().uid()) return "pane " + st.pane().id() + " changed";
        World fresh = new World(w.account(), w.panes(), now, new Conversations(now, w.account()), w.running(), w.newest(), w.newestTime(), w.screenLine());
        if (fresh.conversations().claudeIn(st.pane().pid()).isPresent()) return "a claude runs in pane " + st.pane().id() + " now";
        return busy(fresh, st.pane(), shell.get());
    }

    /** Why the pane is not an idle shell at its prompt, or null when it is. */
    static String busy(World w, Tmux.LivePane p, Procfs.Proc shell) {
        List<Procfs.Proc> tree = w.procs().selfAndDescendants(p.pid());
        if (tree.size() > 1 || shell.tpgid() != shell.pid()) {
            Procfs.Proc fg = tree.stream().filter(x -> x.pid() == shell.tpgid()).findFirst().orElse(tree.get(tree.size() - 1));
            return "pane " + p.id() + " is busy running " + fg.comm();
        }
        String line = w.screenLine().apply(p.id(), p.cursorY());
        if (line == null) return "pane " + p.id() + "'s screen cannot be read";
        if (typed(line, p.cursorX())) return "something is typed at the prompt in pane " + p.id();
        return null;
    }

    /** Whether the cursor line, up to the cursor, holds more than a prompt. */
    public static boolean typed(String line, int cursorX) {
        String upToCursor = line.substring(0, Math.min(line.length(), Math.max(0, cursorX))).stripTrailing();
        return !upToCursor.isEmpty() && PROMPT_ENDS.indexOf(upToCursor.charAt(upToCursor.length() - 1)) < 0;
    }

    /** The pane the record names; a record without one: the pane the newest snapshot ran it in, else that session's active pane. */
    private static Optional<Tmux.LivePane> paneOf(World w, LiveRecords.Record r) {
        if (r.pane() != null) return w.panes().stream().filter(p -> p.id().equals(r.pane())).findFirst();
        // The newest snapshot says which pane ran it (a session may have several); the pane's age is checked after.
        Optional<String> saved = w.newest().stream().flatMap(row -> row.conversations().stream())
                .filter(p -> ConversationId.same(p.conversation(), r.conversation()) && p.tmuxPane() != null)
                .map(p -> Tmux.paneIdOf(p.tmuxPane())).findFirst();
        if (saved.isPresent()) return w.panes().stream().filter(p -> p.id().equals(saved.get())).findFirst();
        return sessionOf(w, r).flatMap(s -> w.panes().stream().filter(p -> p.active() && p.session().equals(s)).findFirst());
    }

    /** The launch options the newest snapshot carries for {@code conversation} (none when it names none). */
    static List<String> launchOptions(World w, String conversation) {
        return w.newest().stream().flatMap(row -> row.conversations().stream())
                .filter(p -> ConversationId.same(p.conversation(), conversation)).findFirst()
                .map(SavedPane::claudeOptions).orElse(List.of());
    }

    private static Optional<String> sessionOf(World w, LiveRecords.Record r) {
        return w.newest().stream().filter(row -> row.conversations().stream().anyMatch(x -> ConversationId.same(r.conversation(), x.conversation())))
                .map(SavedSession::session).findFirst();
    }
}
