//! Page-lifecycle policy: which of the browser's page events matter, and what
//! they mean for the connection. The driver reports every event as it is
//! ([`PageEvent`]); this is the one place that filters them.

use super::input::PageEvent;

/// What a page event means to the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSignal {
    /// The network is back: retry at once (backoff reset) or probe the link.
    Online,
    /// The network is gone: stop spending attempts.
    Offline,
    /// The page became visible: probe the link, or end a backoff wait.
    Visible,
    /// The page is entering the back/forward cache: close cleanly (an open
    /// socket keeps a page out of the cache) and come back after.
    Frozen,
    /// The page came back from the back/forward cache: reconnect.
    Restored,
}

/// The signal a page event carries, if any. A `pagehide` that is not
/// `persisted` is the page going away for good (the transport is freed with
/// it), and a `pageshow` that is not is a first load: neither matters.
/// Becoming hidden changes nothing either: background tabs keep their
/// connection (their timers are throttled, which the heartbeat allows for).
pub fn page_signal(event: PageEvent) -> Option<PageSignal> {
    match event {
        PageEvent::Online => Some(PageSignal::Online),
        PageEvent::Offline => Some(PageSignal::Offline),
        PageEvent::VisibilityChanged { visible: true } => Some(PageSignal::Visible),
        PageEvent::VisibilityChanged { visible: false } => None,
        PageEvent::PageHide { persisted: true } => Some(PageSignal::Frozen),
        PageEvent::PageShow { persisted: true } => Some(PageSignal::Restored),
        PageEvent::PageHide { persisted: false } | PageEvent::PageShow { persisted: false } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_persisted_pagehide_or_pageshow_touches_the_connection() {
        assert_eq!(
            page_signal(PageEvent::PageHide { persisted: true }),
            Some(PageSignal::Frozen)
        );
        assert_eq!(page_signal(PageEvent::PageHide { persisted: false }), None);
        assert_eq!(
            page_signal(PageEvent::PageShow { persisted: true }),
            Some(PageSignal::Restored)
        );
        assert_eq!(page_signal(PageEvent::PageShow { persisted: false }), None);
    }

    #[test]
    fn becoming_visible_matters_and_becoming_hidden_does_not() {
        assert_eq!(
            page_signal(PageEvent::VisibilityChanged { visible: true }),
            Some(PageSignal::Visible)
        );
        assert_eq!(
            page_signal(PageEvent::VisibilityChanged { visible: false }),
            None
        );
        assert_eq!(page_signal(PageEvent::Online), Some(PageSignal::Online));
        assert_eq!(page_signal(PageEvent::Offline), Some(PageSignal::Offline));
    }
}
