package save;

import store.SavedSession;
import base.Json;
import base.Exec;
import base.Log;
import base.Settings;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What each pane of a user showed at the last save (T3_SCROLLBACK on): its last lines with their
 * colours ({@code capture-pane -e -J}), kept root-only in {@code <state>/<user>.screens} (JSON:
 * session name, then "window.pane", then the text), never in the snapshot. A restore prints it
 * back in the pane before its program starts. Bounded a pane and a user: a flood keeps its end.
 */
public final class Screens {
    private static final ObjectMapper JSON = Json.MAPPER;
    private static final TypeReference<Map<String, Map<String, String>>> SHAPE = new TypeReference<>() {};

    private final Map<String, Map<String, String>> bySession;

    private Screens(Map<String, Map<String, String>> bySession) {
        this.bySession = bySession;
    }

    /** None: scrollback off, nothing saved yet, or a file that does not read (said in the log). */
    public static final Screens NONE = new Screens(Map.of());

    /** What pane {@code window.index} of {@code session} showed, if it was saved. */
    public Optional<String> of(String session, int window, int index) {
        return Optional.ofNullable(bySession.getOrDefault(session, Map.of()).get(window + "." + index));
    }

    public boolean isEmpty() { return bySession.isEmpty(); }

    /** The user's saved screens when scrollback is on; else none. */
    public static Screens read(StateStore store, String user, Settings.Scrollback limits) {
        Path file = store.screensFile(user);
        if (!limits.on() || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) return NONE;
        try {
            if (Files.size(file) > 2 * limits.userBytes() + (1 << 20)) throw new IOException("larger than T3_SCROLLBACK_MAX allows");
            return new Screens(JSON.readValue(StateStore.readOwn(file), SHAPE));
        } catch (IOException | RuntimeException e) {
            Log.warn("%s: saved screens %s do not read (%s); panes come back without them", user, file, e.getMessage());
            return NONE;
        }
    }

    /**
     * Saves what the live panes show now, keeping the previous screens of the sessions
     * {@code rows} keeps that are not live (a session lost since, still to be restored). With
     * scrollback off, removes what an earlier setting saved: off means nothing kept.
     */
    public static void save(StateStore store, String user, Tmux tmux, Inventory.Result live, List<SavedSession> rows,
                            Settings.Scrollback limits) throws IOException {
        Path file = store.screensFile(user);
        if (!limits.on()) {
            Files.deleteIfExists(file);
            return;
        }
        Screens before = read(store, user, limits);
        Map<String, String> names = new java.util.HashMap<>();
        live.sessions().forEach(s -> names.put(s.id(), s.name()));
        Map<String, Map<String, String>> now = new LinkedHashMap<>();
        long total = 0;
        int cut = 0;
        for (Tmux.LivePane p : live.panes()) {
            String text = capture(tmux, p.id(), limits);
            if (text == null) continue;
            int size = text.getBytes(StandardCharsets.UTF_8).length;
            if (total + size > limits.userBytes()) {
                cut++;
                continue;
            }
            total += size;
            now.computeIfAbsent(names.get(p.sessionId()), k -> new LinkedHashMap<>()).put(p.window() + "." + p.index(), text);
        }
        if (cut > 0) Log.warn("%s: %d pane(s) not saved with their screen: the user's screens reached %d KiB (T3_SCROLLBACK_MAX x 16)",
                user, cut, limits.userBytes() >> 10);
        for (SavedSession r : rows) {
            if (!names.containsValue(r.session()) && before.bySession.containsKey(r.session())) now.put(r.session(), before.bySession.get(r.session()));
        }
        store.writeOwn(file, JSON.writeValueAsBytes(now));
    }

    /** The pane's last lines, at most the pane's share (cut at a line start), or null when tmux would not say. */
    static String capture(Tmux tmux, String paneId, Settings.Scrollback limits) {
        String history = tmux.history(paneId, limits.lines());
        return history == null ? null : tail(history, limits.paneBytes());
    }

    /** The end of {@code text} that fits in {@code max} bytes, from the start of a line. */
    static String tail(String text, int max) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (b.length <= max) return text;
        int from = b.length - max;
        while (from < b.length && b[from - 1] != '\n') from++;
        return new String(b, from, b.length - from, StandardCharsets.UTF_8);
    }
}
