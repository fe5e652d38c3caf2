package assistant;

import base.ConversationId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One conversation belongs to one session. When two panes claim the same id, the more certain
 * evidence keeps it (a record naming the process over argv over a file); on a tie, the older process; the
 * other pane saves no conversation, so restore never starts one conversation twice.
 */
public final class Claims {
    /** A session's claim on a conversation, with the claiming process's start ticks. */
    public record Claim(String session, Conversation conversation, long startTicks) {}

    /** A claim that lost, and to which session. */
    public record Lost(Claim claim, String keptBy) {}

    public record Resolved(Map<String, Conversation> kept, List<Lost> lost) {}

    private static final Comparator<Claim> STRONGEST_FIRST =
            Comparator.<Claim>comparingInt(c -> c.conversation().source().ordinal())
                    .thenComparingLong(Claim::startTicks)
                    .thenComparing(Claim::session);

    private Claims() {}

    public static Resolved resolve(List<Claim> claims) {
        Map<String, List<Claim>> byId = new HashMap<>();
        for (Claim c : claims) byId.computeIfAbsent(ConversationId.normal(c.conversation().id()), k -> new ArrayList<>()).add(c);
        Map<String, Conversation> kept = new HashMap<>();
        List<Lost> lost = new ArrayList<>();
        for (List<Claim> rivals : byId.values()) {
            rivals.sort(STRONGEST_FIRST);
            Claim winner = rivals.get(0);
            kept.put(winner.session(), winner.conversation());
            for (Claim loser : rivals.subList(1, rivals.size())) lost.add(new Lost(loser, winner.session()));
        }
        return new Resolved(kept, lost);
    }
}
