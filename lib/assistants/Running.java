package assistants;

import assistant.Assistant;
import assistant.CannotTell;
import assistant.Conversation;
import assistant.Crash;
import base.Accounts;
import base.ConversationId;
import base.Procfs;
import base.UserFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import store.SavedPane;
import store.SavedSession;
import tmux.PaneScript;

/**
 * What one user's assistants run right now, read from one look at /proc: the assistant process
 * below a pane and the conversation it holds, a restored pane still waiting to resume one, and
 * every conversation she runs anywhere (so nothing is started a second time).
 */
public final class Running {
    /** An assistant's process: which assistant, which process. */
    public record Found(Assistant assistant, Procfs.Proc proc) {}

    private final Procfs procs;
    private final Accounts.Account account;

    public Running(Procfs procs, Accounts.Account account) {
        this.procs = procs;
        this.account = account;
    }

    public Procfs procs() { return procs; }

    /** The assistant process below a pane (the pane's own process included) that runs as the user: the foreground one, else the nearest. */
    public Optional<Found> in(int panePid) {
        return below(panePid).stream().findFirst();
    }

    /** The user's assistant processes below a pane: the one in the pane's foreground first (a suspended one must not hide it), then nearest first. */
    private List<Found> below(int panePid) {
        List<Found> found = new ArrayList<>();
        int foreground = procs.get(panePid).map(Procfs.Proc::tpgid).orElse(-1);
        for (Procfs.Proc p : procs.selfAndDescendants(panePid)) {
            if (p.uid() != account.uid()) continue;
            for (Assistant a : Assistants.ALL) {
                if (!a.is(p)) continue;
                found.add(p.pid() == foreground ? 0 : found.size(), new Found(a, p));
                break;
            }
        }
        return found;
    }

    /**
     * An assistant's process below a pane, and the conversation it holds (null: it cannot be
     * named); {@code known}: false when its files could not be read (then nothing is said of it).
     */
    public record InPane(Found found, Conversation conversation, boolean known) {}

    /**
     * The assistant below a pane whose conversation counts ({@link #below}): of several, the
     * first whose conversation can be named, else the first. Empty: no assistant of the user's runs there.
     */
    public Optional<InPane> conversationIn(int panePid) {
        List<Found> found = below(panePid);
        boolean known = true;
        for (Found f : found) {
            try {
                // A background agent below a pane (its daemon started from one) holds no conversation of the pane's.
                Optional<Conversation> c = of(f).filter(x -> x.source() != Conversation.Source.BACKGROUND);
                if (c.isPresent()) return Optional.of(new InPane(f, c.get(), true));
            } catch (CannotTell e) {
                known = false;
            }
        }
        return found.isEmpty() ? Optional.empty() : Optional.of(new InPane(found.get(0), null, known));
    }

    /** The conversation an assistant process holds, by the most certain evidence there is. */
    public Optional<Conversation> of(Found f) {
        return f.assistant().conversation(procs, account, f.proc());
    }

    /**
     * The conversation a restored pane waits to resume (the pane script at its gate, as the user):
     * it was running when saved and is wanted running again, so saves keep it as running.
     */
    public Optional<Conversation> waitingIn(Procfs.Proc pane) {
        if (pane.uid() != account.uid()) return Optional.empty();
        return PaneScript.waitingFor(pane).flatMap(w -> Assistants.named(w.assistant())
                .filter(a -> a.isId(w.conversation()))
                .map(a -> new Conversation(a, w.conversation(), Conversation.Source.WAITING, w.startDir(), a.home(procs, account, pane))));
    }

    /** Whether the assistant process {@code f} has got going (see {@link Assistant#started}). */
    public boolean started(Found f) {
        return f.assistant().started(procs, account, f.proc());
    }

    /**
     * Every conversation the user runs right now, anywhere (in tmux or not), with the process
     * that runs it; used so restore never starts a conversation a second time.
     */
    public Map<String, Procfs.Proc> all() {
        Map<String, Procfs.Proc> out = new HashMap<>();
        for (Procfs.Proc p : procs.all()) {
            if (p.uid() != account.uid()) continue;
            for (Assistant a : Assistants.ALL) {
                if (!a.is(p) || p.tpgid() == -1 && !a.holdsWithoutTerminal()) continue;
                try {
                    a.conversation(procs, account, p).ifPresent(c -> out.putIfAbsent(ConversationId.normal(c.id()), p));
                } catch (CannotTell e) {
                    // not known: nothing said of it
                }
            }
        }
        return out;
    }

    /**
     * Where each conversation the user runs right now runs, in words: the label of the pane (by
     * its pid) whose process tree holds it, or its pid when it runs outside tmux.
     */
    public Map<String, String> where(Map<Integer, String> paneLabels) {
        Map<String, String> where = new HashMap<>();
        all().forEach((id, proc) -> where.put(id, paneLabels.entrySet().stream()
                .filter(e -> procs.selfAndDescendants(e.getKey()).contains(proc))
                .map(Map.Entry::getValue)
                .findFirst().orElse("pid " + proc.pid() + " (outside tmux)")));
        return where;
    }

    /**
     * The crashes of this boot every assistant left evidence of, in its default home and each
     * home {@code rows} name for it (a conversation run under another home).
     */
    public List<Crash> crashes(List<SavedSession> rows) {
        Map<String, Set<String>> homes = new HashMap<>();
        for (SavedPane p : rows.stream().flatMap(r -> r.conversations().stream()).toList()) {
            if (p.home() != null) homes.computeIfAbsent(p.assistant(), k -> new LinkedHashSet<>()).add(p.home());
        }
        List<Crash> out = new ArrayList<>();
        for (Assistant a : Assistants.ALL) {
            Set<Path> trusted = new LinkedHashSet<>();
            UserFiles.trustedDir(a.defaultHome(account), account.uid()).ifPresent(trusted::add);
            for (String h : homes.getOrDefault(a.name(), Set.of())) {
                if (h.startsWith("/") && h.indexOf('\0') < 0) UserFiles.trustedDir(Path.of(h), account.uid()).ifPresent(trusted::add);
            }
            out.addAll(a.crashes(procs, account, trusted));
        }
        return out;
    }
}
