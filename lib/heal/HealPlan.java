package heal;

import store.SavedSession;
import store.SavedPane;
import base.ConversationId;
import store.HealLedger;
import base.Accounts;
import assistant.Assistant;
import assistant.CannotTell;
import assistant.Crash;
import assistant.Stored;
import assistants.Running;
import base.Procfs;
import store.SnapshotFormat;
import tmux.Tmux;
import base.UserFiles;
import keep.PutBack;
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
 * What heal does about each crash one user's live server shows: the evidence an assistant's
 * killed process left (claude's stale live record) whose pane lives on gets the same
 * conversation resumed in that very pane, once its shell is idle. Everything else a user did on
 * purpose leaves no such evidence and is left alone. Each record is acted on once (the ledger), so an old crash never
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
     * resume, where it starts and its assistant's home (null: the default).
     */
    public record Step(Crash record, List<Crash> others, Tmux.LivePane pane, Action action, String why,
                       Path startDir, Path home) {
        public String conversation() { return record.conversation(); }

        /** What becomes of crash {@code r} (and {@code others} of its conversation) in {@code pane}, and why. */
        static Step of(Crash r, List<Crash> others, Tmux.LivePane pane, Action action, String why) {
            return new Step(r, others, pane, action, why, null, null);
        }

        static Step leave(Crash r, List<Crash> others, Tmux.LivePane pane, String why) {
            return of(r, others, pane, Action.LEAVE, why);
        }

        /** A resume, in {@code startDir}, under the assistant's home {@code home} (null: the default). */
        Step in(Path startDir, Path home) {
            return new Step(record, others, pane, action, why, startDir, home);
        }
    }

    /** What a plan needs to know of the user's world, read once. */
    public record World(Accounts.Account account, List<Tmux.LivePane> panes, Procfs procs, Running assistants,
                        java.util.function.Supplier<Map<String, String>> running, List<SavedSession> newest, Instant newestTime,
                        BiFunction<String, Integer, String> screenLine, PutBack putBack) {}

    /** Reads what a plan needs of the user's world, once. */
    public static World world(Accounts.Account account, List<Tmux.LivePane> panes, Procfs procs, List<SavedSession> newest,
                              Instant newestTime, BiFunction<String, Integer, String> screenLine, PutBack putBack) {
        Running assistants = new Running(procs, account);
        Map<Integer, String> labels = new LinkedHashMap<>();
        panes.forEach(p -> labels.put(p.pid(), "session '" + p.session() + "' (pane " + p.id() + ")"));
        // Where each conversation runs costs a look at every assistant process: only a step that acts needs it.
        return new World(account, panes, procs, assistants, once(() -> assistants.where(labels)), newest, newestTime, screenLine, putBack);
    }

    /** The crashes of this boot the user's assistants left evidence of: each a process that did not exit by itself. */
    public static List<Crash> evidence(World w) {
        return w.assistants().crashes(w.newest());
    }

    /** {@code value}, computed the first time it is asked for, then kept. */
    private static <T> java.util.function.Supplier<T> once(java.util.function.Supplier<T> value) {
        Object[] kept = new Object[1];
        return () -> {
            if (kept[0] == null) kept[0] = value.get();
            @SuppressWarnings("unchecked") T t = (T) kept[0];
            return t;
        };
    }

    /** Characters a prompt ends with: what is left of the cursor line past one of them was typed. */
    // Not '>': that is also the shell's continuation prompt, in the middle of a command.
    private static final String PROMPT_ENDS = "$#%❯»:";

    private HealPlan() {}

    /** The heal limit: a conversation is resumed at most {@code max} times within {@code window}. */
    public record Limit(int max, Duration window) {}

    public static List<Step> plan(World w, List<Crash> stale, HealLedger ledger, int maxHeals, Duration window, Instant now) {
        Limit limit = new Limit(maxHeals, window);
        List<Step> steps = new ArrayList<>();
        java.util.Set<String> panesTaken = new java.util.HashSet<>();
        for (List<Crash> records : newestFirst(stale, ledger).values()) {
            steps.add(step(w, records.get(0), records.subList(1, records.size()), panesTaken, ledger, limit, now));
        }
        return steps;
    }

    /** The records heal has not acted on, by conversation, newest crash first: of two in one pane, or of one conversation, the newest is the one to act on. */
    private static Map<String, List<Crash>> newestFirst(List<Crash> stale, HealLedger ledger) {
        Map<String, List<Crash>> byConversation = new LinkedHashMap<>();
        stale.stream().filter(r -> !ledger.handled(r.key())).sorted(Comparator.comparingLong(Crash::procStart).reversed())
                .forEach(r -> byConversation.computeIfAbsent(ConversationId.normal(r.conversation()), k -> new ArrayList<>()).add(r));
        return byConversation;
    }

    /** What to do about crash {@code r}: first whether its pane is still the one it ran in, then whether it can be resumed there now. */
    private static Step step(World w, Crash r, List<Crash> others, java.util.Set<String> panesTaken, HealLedger ledger,
                             Limit limit, Instant now) {
        String where = w.running().get().get(ConversationId.normal(r.conversation()));
        if (where != null) return Step.leave(r, others, null, "runs again, in " + where);
        Optional<Tmux.LivePane> pane = paneOf(w, r);
        if (pane.isEmpty()) {
            return Step.leave(r, others, null, r.pane() == null && sessionOf(w, r).isEmpty()
                    ? "it ran outside tmux" : "its pane is gone (the session was closed)");
        }
        Tmux.LivePane p = pane.get();
        if (!panesTaken.add(p.id())) return Step.leave(r, others, p, "a newer crash in pane " + p.id() + " is the one to heal");
        // The save's own rule: a session whose row, saved after this assistant started, names another
        // conversation has moved on from this one (the user started another since).
        Optional<SavedSession> row = w.newest().stream().filter(x -> x.session().equals(p.session())).findFirst();
        if (row.isPresent() && row.get().hasConversation() && row.get().conversations().stream().noneMatch(x -> ConversationId.same(x.conversation(), r.conversation()))
                && w.newestTime() != null && w.newestTime().isAfter(r.written())) {
            return Step.leave(r, others, p, "session '" + p.session() + "' has moved on to conversation "
                    + row.get().conversation() + " since");
        }
        Optional<Procfs.Proc> shell = w.procs().get(p.pid());
        // The pane must be the one it ran in: its process is the user's and older than the assistant was.
        if (shell.isEmpty() || shell.get().uid() != w.account().uid() || shell.get().startTicks() > r.procStart()) {
            return Step.leave(r, others, p, "pane " + p.id() + " is newer than the crash: not where it ran");
        }
        return resumeIn(w, r, others, p, shell.get(), ledger, limit, now);
    }

    /** Crash {@code r} in its own pane {@code p}: resume it, unless it crash-loops, its transcript or directory is gone, or the pane is busy. */
    private static Step resumeIn(World w, Crash r, List<Crash> others, Tmux.LivePane p, Procfs.Proc shell,
                                 HealLedger ledger, Limit limit, Instant now) {
        long heals = ledger.healsSince(r.conversation(), now.minus(limit.window()));
        if (heals >= limit.max()) {
            return Step.of(r, others, p, Action.GIVE_UP, "killed again after " + heals + " heal(s) within "
                    + limit.window().toMinutes() + " min: memory is short, resuming it again would only feed the OOM killer");
        }
        Assistant a = r.assistant();
        Optional<Path> home = UserFiles.trustedDir(r.home(), w.account().uid());
        Optional<Stored> stored;
        try {
            stored = home.flatMap(h -> a.stored(w.account(), h, r.conversation()));
        } catch (CannotTell e) {
            return Step.of(r, others, p, Action.WAIT, "its files cannot be read now (" + e.getMessage() + "); trying again on the next run");
        }
        if (stored.isEmpty()) stored = w.putBack().back(a, r.home(), r.conversation()).map(PutBack.Back::stored);
        if (stored.isEmpty()) return Step.leave(r, others, p, a.gone(r.home()));
        if (home.isEmpty()) home = UserFiles.trustedDir(r.home(), w.account().uid());
        if (home.isEmpty()) return Step.leave(r, others, p, a.gone(r.home()));
        Optional<Path> start = Optional.ofNullable(stored.get().startDir())
                .or(() -> Optional.ofNullable(r.cwd())).filter(d -> java.nio.file.Files.isDirectory(d));
        if (start.isEmpty()) return Step.leave(r, others, p, "its starting directory is gone");
        String busy = busy(w, p, shell);
        if (busy != null) return Step.of(r, others, p, Action.WAIT, busy + "; trying again on the next run");
        boolean isDefault = UserFiles.trustedDir(a.defaultHome(w.account()), w.account().uid()).map(home.get()::equals).orElse(false);
        return Step.of(r, others, p, Action.RESUME, a.name() + " pid " + r.pid() + " was killed (" + r.evidence() + ")")
                .in(start.get(), isDefault ? null : home.get());
    }

    /**
     * Just before acting, read afresh: why the step must wait after all (the assistant of that pid
     * runs, an assistant runs in the pane, the pane is busy now), or null. A run goes user by user while
     * users go on working: what the plan read may be minutes old.
     */
    public static String changedSince(World w, Step st) {
        Procfs now = Procfs.read();
        Crash r = st.record();
        if (now.get(r.pid()).map(p -> p.startTicks() == r.procStart()).orElse(false)) return r.assistant().name() + " pid " + r.pid() + " runs after all";
        Optional<Procfs.Proc> shell = now.get(st.pane().pid());
        if (shell.isEmpty() || shell.get().uid() != w.account().uid()) return "pane " + st.pane().id() + " changed";
        World fresh = new World(w.account(), w.panes(), now, new Running(now, w.account()), w.running(), w.newest(), w.newestTime(), w.screenLine(), w.putBack());
        Optional<Running.Found> found = fresh.assistants().in(st.pane().pid());
        if (found.isPresent()) return found.get().assistant().name() + " runs in pane " + st.pane().id() + " now";
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
    private static Optional<Tmux.LivePane> paneOf(World w, Crash r) {
        if (r.pane() != null) return w.panes().stream().filter(p -> p.id().equals(r.pane())).findFirst();
        // The newest snapshot says which pane ran it (a session may have several); the pane's age is checked after.
        Optional<String> saved = w.newest().stream().flatMap(row -> row.conversations().stream())
                .filter(p -> ConversationId.same(p.conversation(), r.conversation()) && p.tmuxPane() != null)
                .map(p -> Tmux.paneIdOf(p.tmuxPane())).findFirst();
        if (saved.isPresent()) return w.panes().stream().filter(p -> p.id().equals(saved.get())).findFirst();
        return sessionOf(w, r).flatMap(s -> w.panes().stream().filter(p -> p.active() && p.session().equals(s)).findFirst());
    }

    /**
     * The pane heal resumes {@code st}'s conversation as: the newest snapshot's pane of it (its
     * launch options), else the crash's own (no options), with the step's start and home.
     */
    static SavedPane resumed(World w, Step st) {
        SavedPane saved = w.newest().stream().flatMap(row -> row.conversations().stream())
                .filter(p -> ConversationId.same(p.conversation(), st.conversation()) && p.assistant().equals(st.record().assistant().name()))
                .findFirst().orElse(SavedPane.at(0, 0));
        return saved.conversation(st.conversation(), st.startDir().toString(), st.home() == null ? null : st.home().toString())
                .assistant(st.record().assistant().name())
                .options(saved.options());
    }

    private static Optional<String> sessionOf(World w, Crash r) {
        return w.newest().stream().filter(row -> row.conversations().stream().anyMatch(x -> ConversationId.same(r.conversation(), x.conversation())))
                .map(SavedSession::session).findFirst();
    }
}
