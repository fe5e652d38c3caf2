package base;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A conversation's id, whichever assistant runs it: what one may look like (claude's, Codex's
 * and Gemini's are UUIDs, OpenCode's {@code ses_...}; each assistant checks its own shape too),
 * and its normal form, by which ids are compared and looked up everywhere. A UUID is compared
 * in lower case; any other id as it is (OpenCode's are case-sensitive).
 */
public final class ConversationId {
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    /** Letters, digits, '_' and '-', not first: nothing a shell, a tmux format or an option parser reads as more than a word. */
    private static final Pattern ANY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");

    private ConversationId() {}

    public static boolean isUuid(String s) {
        return s != null && UUID.matcher(s).matches();
    }

    /** Whether {@code s} can be some assistant's conversation id (anything else in a file is not one). */
    public static boolean isId(String s) {
        return s != null && ANY.matcher(s).matches();
    }

    /** The form ids are compared and looked up in. */
    public static String normal(String id) {
        return isUuid(id) ? id.toLowerCase(Locale.ROOT) : id;
    }

    /** Whether {@code a} and {@code b} name one conversation (false when either is none). */
    public static boolean same(String a, String b) {
        return a != null && b != null && normal(a).equals(normal(b));
    }

    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_-]+");

    /** Whether {@code text} can be the start of an id (what --find takes for one). */
    public static boolean isPrefix(String text) {
        return PREFIX.matcher(text).matches();
    }

    /** Whether {@code id} starts with {@code prefix}: a UUID's letters in either case. */
    public static boolean startsWith(String id, String prefix) {
        return isUuid(id) ? id.toLowerCase(Locale.ROOT).startsWith(prefix.toLowerCase(Locale.ROOT)) : id.startsWith(prefix);
    }
}
