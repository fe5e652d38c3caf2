package assistant;

/**
 * An assistant's files could not be read (too big, torn, too slow): which conversation a process
 * holds, or whether one is still kept, is not known. Not "none": a save keeps what it had, a
 * restore resumes what was saved and lets the assistant say.
 */
public final class CannotTell extends RuntimeException {
    public CannotTell(String why) {
        super(why, null, false, false);
    }
}
