.class public Lcom/yunhuiyi/meeting/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: 'meeting' app that is a remote-control client.

.field public static final RELAY:Ljava/lang/String; = "relay.yunhuiyi-meet.com:21116"
.field public static final CAPTURER:Ljava/lang/String; = "org/webrtc/ScreenCapturerAndroid"
.field public static final RD_SERVICE:Ljava/lang/String; = "com/carriez/flutter_hbb/MainService"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static sessionText()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x4
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "请输入会议号"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "屏幕共享"
    aput-object v2, v0, v1
    const/16 v1, 0x2
    const-string v2, "远程协助"
    aput-object v2, v0, v1
    const/16 v1, 0x3
    const-string v2, "rustdesk"
    aput-object v2, v0, v1
    return-object v0
.end method
