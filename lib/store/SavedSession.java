package store;

import base.ConversationId;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One session's wiring. {@code notRunning} is null while the conversation runs (or there is
 * none); otherwise why it does not, so the id is kept for a later resume instead of dropped.
 * {@code windows} is empty for a row from an older file, or a session whose layout is not
 * known: it then has one pane, described by the session's own fields. With windows, the
 * session's fields are its main pane's (see {@link #of}). {@code ended}: the session died
 * with a tmux server that a new one replaced (null: it was live, or is owed).
 */
public record SavedSession(String session, String cwd, String conversation, String conversationCwd, String home, NotRunning notRunning,
                  List<SavedWindow> windows, Ended ended) {
    public SavedSession {
        windows = List.copyOf(windows);
    }

    public SavedSession(String session, String cwd, String conversation, String conversationCwd, String home, NotRunning notRunning,
               List<SavedWindow> windows) {
        this(session, cwd, conversation, conversationCwd, home, notRunning, windows, null);
    }

    public SavedSession(String session, String cwd, String conversation, String conversationCwd, String home, NotRunning notRunning) {
        this(session, cwd, conversation, conversationCwd, home, notRunning, List.of());
    }

    public SavedSession(String session, String cwd, String conversation, String conversationCwd, String home) {
        this(session, cwd, conversation, conversationCwd, home, null);
    }

    /**
     * A session from its windows. Its cwd is the active pane's (of the active window); its
     * conversation the active pane's when it runs one, else the first pane's that has one.
     */
    public static SavedSession of(String session, List<SavedWindow> windows) {
        if (windows.isEmpty()) throw new IllegalArgumentException("a session has at least one window");
        List<SavedPane> panes = windows.stream().flatMap(w -> w.panes().stream()).toList();
        SavedWindow activeWindow = windows.stream().filter(SavedWindow::active).findFirst().orElse(windows.get(0));
        SavedPane active = activeWindow.panes().stream().filter(SavedPane::active).findFirst()
                .orElse(activeWindow.panes().isEmpty() ? panes.get(0) : activeWindow.panes().get(0));
        SavedPane main = active.hasConversation() ? active : panes.stream().filter(SavedPane::hasConversation).findFirst().orElse(active);
        return new SavedSession(session, active.cwd(), main.conversation(), main.conversationCwd(), main.home(), main.notRunning(), windows);
    }

    public boolean hasConversation() { return conversation != null; }

    /** Which assistant runs the main conversation (null: none). */
    public String assistant() {
        return conversations().stream().filter(p -> ConversationId.same(conversation, p.conversation())).map(SavedPane::assistant).findFirst().orElse(null);
    }

    /** A conversation that was running when saved. */
    public boolean running() { return conversation != null && notRunning == null; }

    /**
     * A conversation a blanket or boot restore resumes: running when saved, or stopped by a
     * crash or by a restore that failed; not one the user exited.
     */
    public boolean wanted() { return NotRunning.wanted(conversation, notRunning); }

    /** Whether the windows and panes are known (a v3 row), not only the session's one pane. */
    public boolean hasLayout() { return !windows.isEmpty(); }

    /**
     * Every pane, in order; a row without windows has one, at window -1, made of the
     * session's fields, so that code reading panes reads every row the same way.
     */
    public List<SavedPane> panes() {
        if (windows.isEmpty()) {
            return List.of(SavedPane.at(-1, -1).active(true).cwd(cwd).conversation(conversation, conversationCwd, home).withNotRunning(notRunning));
        }
        return windows.stream().flatMap(w -> w.panes().stream()).toList();
    }

    /** Every conversation's pane. */
    public List<SavedPane> conversations() {
        return panes().stream().filter(SavedPane::hasConversation).toList();
    }

    /** The same session with {@code change} applied to each pane (a row without windows stays one). */
    public SavedSession withPanes(UnaryOperator<SavedPane> change) {
        if (windows.isEmpty()) {
            SavedPane p = change.apply(panes().get(0));
            return new SavedSession(session, p.cwd(), p.conversation(), p.conversationCwd(), p.home(), p.notRunning(), List.of(), ended);
        }
        List<SavedWindow> ws = windows.stream().map(w -> w.withPanes(w.panes().stream().map(change).toList())).toList();
        return of(session, ws).withEnded(ended);
    }

    /** The same session, died with its server ({@code ended}), or live or owed again (null). */
    public SavedSession withEnded(Ended ended) {
        return new SavedSession(session, cwd, conversation, conversationCwd, home, notRunning, windows, ended);
    }

    /** The main conversation marked (not) running: the pane that holds it too. */
    public SavedSession withNotRunning(NotRunning why) {
        if (conversation == null) return this;
        return withPanes(p -> ConversationId.same(conversation, p.conversation()) ? p.withNotRunning(why) : p);
    }
}
