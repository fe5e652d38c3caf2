package base;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A conversation's id: what one looks like (a UUID; anything else in a file or an argv is not
 * one), and its normal form (lower case), by which ids are compared and looked up everywhere.
 */
public final class ConversationId {
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private ConversationId() {}

    public static boolean isUuid(String s) {
        return s != null && UUID.matcher(s).matches();
    }

    /** The form ids are compared and looked up in. */
    public static String normal(String id) {
        return id.toLowerCase(Locale.ROOT);
    }

    /** Whether {@code a} and {@code b} name one conversation (false when either is none). */
    public static boolean same(String a, String b) {
        return a != null && b != null && a.equalsIgnoreCase(b);
    }

    private static final Pattern PREFIX = Pattern.compile("[0-9a-fA-F-]+");

    /** Whether {@code text} can be the start of an id (what --find takes for one). */
    public static boolean isPrefix(String text) {
        return PREFIX.matcher(text).matches();
    }
}
